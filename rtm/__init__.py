"""rtm: risk terrain modelling and harm-spot lists."""

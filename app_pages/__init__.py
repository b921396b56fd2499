"""Pages of the Streamlit app (``streamlit_app.py`` is the entry script)."""

"""The names the pages use, gathered from the app's modules (each page imports this one).

:mod:`app_pages.datasets` data sets, periods and the catalogue; :mod:`app_pages.models` the
risk terrains (a library :class:`~rtm.terrain_store.TerrainStore` under a lock);
:mod:`app_pages.lists` the lists and publishing; :mod:`app_pages.state` the session's
choices; :mod:`app_pages.uploads` uploaded files. What is cached, and under which key:

* data sets (samples) and attractor layers: ``st.cache_resource`` (never modified);
* terrain stores: one per (data set, model settings), shared by every session;
* lists: ``st.cache_resource`` keyed on (data set id, period, model settings).
"""

from app_pages.datasets import (CATALOGUE, DEFAULT_SAMPLE, ROOT, Dataset, ModelSettings, available_samples,
                                catalogue, catalogue_choices, default_period_index, layers_for, load_sample,
                                load_workspace_dataset, make_period, period_choices)
from app_pages.lists import MOVEMENT_DEPTH, harm_list, list_or_stop, lists_dir, publish_list
from app_pages.models import fitted, is_fitted, model_dir, terrain_for, terrain_store
from app_pages.state import ALL, View, cap, current_view, model_settings, plain, set_model_settings, show_error
from app_pages.uploads import UPLOAD_TYPES, safe_name, save_upload, save_uploads, scratch, upload_limit_mb

__all__ = ["ALL", "CATALOGUE", "DEFAULT_SAMPLE", "MOVEMENT_DEPTH", "ROOT", "UPLOAD_TYPES", "Dataset",
           "ModelSettings", "View", "available_samples", "cap", "catalogue", "catalogue_choices", "current_view",
           "default_period_index", "fitted", "harm_list", "is_fitted", "layers_for", "list_or_stop", "lists_dir",
           "load_sample", "make_period", "model_dir", "model_settings", "period_choices", "publish_list",
           "safe_name", "save_upload", "set_model_settings", "show_error", "terrain_for", "terrain_store",
           "scratch", "upload_limit_mb", "load_workspace_dataset", "save_uploads", "plain"]

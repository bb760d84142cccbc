from django.urls import path

from . import apis

urlpatterns = [
    path("dictionaries", apis.DictionaryListApi.as_view(), name="dictionaries"),
    path("global_parameters", apis.GlobalParameterListApi.as_view(), name="global-parameters"),
]

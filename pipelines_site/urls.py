from django.contrib import admin
from django.urls import include, path

from executions.urls import api_urlpatterns, page_urlpatterns

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include(api_urlpatterns)),
    path("", include(page_urlpatterns)),
]

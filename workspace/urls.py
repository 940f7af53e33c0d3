from django.urls import path

from workspace.views import auth, home

app_name = "workspace"

urlpatterns = [
    path("", home.home, name="home"),
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("preferences/", auth.preferences, name="preferences"),
]

"""Home: what happened today, at a glance."""

from django.shortcuts import render

from workspace.permissions import staff_permission_required
from workspace.selectors import home_summary


@staff_permission_required("view_home")
def home(request):
    ctx = {"page": "home", "summary": home_summary()}
    return render(request, "workspace/home.html", ctx)

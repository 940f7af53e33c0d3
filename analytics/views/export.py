"""A chart's table as a CSV download: every analytics page offers its numbers this way."""

from django.http import HttpResponse

from api.csv_export import csv_lines


def csv_response(filename: str, header: list, rows: list) -> HttpResponse:
    response = HttpResponse(
        "".join(csv_lines([header, *rows])), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def wants_csv(request) -> bool:
    return request.GET.get("format") == "csv"

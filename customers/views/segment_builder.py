"""The segment editor: the visual rule builder (rows rendered by the server, added and removed
with htmx, or with plain form posts without JavaScript), its JSON tab, and the live preview."""

import json

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from api.audit import client_ip
from api.errors import ApiError, ValidationFailed
from customers.models import Segment
from customers.segments import builder, builder_form
from customers.segments.builder import GROUP, NODE_TYPES, Node
from customers.segments.pages import segment_fill_now, segment_preview, segment_save
from customers.views.builder_ui import attribute_types, builder_choices, decorate
from customers.views.rule_messages import rule_message
from workspace.permissions import staff_permission_required

NAME_MAX = 150


def _builder_message(code: str) -> str:
    if code == "exactly_one":
        return _("A “Not” group holds exactly one row; put several rows in a group inside it.")
    if code.startswith("json:"):
        return _("This is not valid JSON: %(problem)s") % {"problem": code.removeprefix("json:")}
    return code


def _find(root: Node, node_id: str) -> Node | None:
    if root.id == node_id:
        return root
    for child in root.children:
        found = _find(child, node_id)
        if found is not None:
            return found
    return None


def _remove(root: Node, node_id: str) -> None:
    root.children = [c for c in root.children if c.id != node_id]
    for child in root.children:
        _remove(child, node_id)


class _Editor:
    """The posted editor: the rule as the builder rows or the JSON tab describe it."""

    def __init__(self, data, types: dict[str, str]):
        self.types = types
        self.mode = "json" if data.get("mode") == "json" else "builder"
        self.json_text = data.get("rules_json", "")
        self.json_errors: list[dict] = []
        self.tree: Node | None = None
        self.paths: list = []
        self.rule = None
        self.ok = True
        if self.mode == "json":
            try:
                self.rule = json.loads(self.json_text)
            except ValueError as exc:
                self.ok = False
                self.json_errors = [{"path": "", "message": _builder_message(f"json:{exc}")}]
        else:
            self.tree = builder_form.form_to_tree(data)
            self.rule, self.paths, problems = builder.tree_to_rule(self.tree, types)
            for problem in problems:
                node = _find(self.tree, problem["node"])
                node.errors.append({"path": "", "message": _builder_message(problem["message"])})
                self.ok = False

    @classmethod
    def start(cls, rule, types: dict[str, str]) -> "_Editor":
        """The editor as a page opens: the stored rule, in the builder."""
        editor = cls({}, types)
        editor.tree, editor.rule = None, rule
        return editor

    def rule_errors(self, errors: list[dict]) -> None:
        """Show the rule checker's errors next to the rows (or under the JSON) they concern."""
        converted = []
        for error in errors:
            path = error.get("field", "")
            path = "" if path == "rules" else path.removeprefix("rules.")
            converted.append({"path": path, "message": rule_message(error["message"])})
        if self.mode == "json":
            self.json_errors = converted
        else:
            builder_form.attach_errors(self.tree, self.paths, converted)

    def to_json(self) -> None:
        self.mode = "json"
        self.json_text = json.dumps(self.rule, indent=2, ensure_ascii=False)

    def to_builder(self) -> bool:
        if not self.ok:
            return False
        self.mode = "builder"
        self.tree = builder.rule_to_tree(self.rule, self.types)
        return True


def _render(request, *, segment, editor: _Editor, name, description, name_error="", status=200):
    if editor.tree is not None:
        tree = editor.tree
    elif editor.ok and editor.rule is not None:
        tree = builder.rule_to_tree(editor.rule, editor.types)
    else:
        tree = builder.rule_to_tree({"all": []}, editor.types)
    ctx = {
        "page": "segments",
        "segment": segment,
        "root": decorate(tree, editor.types),
        "mode": editor.mode,
        "json_text": editor.json_text or json.dumps(editor.rule, indent=2, ensure_ascii=False),
        "json_errors": editor.json_errors,
        "name": name,
        "description": description,
        "name_error": name_error,
        "choices": builder_choices(segment_id=segment.pk if segment else None),
    }
    return render(request, "customers/segments/edit.html", ctx, status=status)


@staff_permission_required("manage_segments")
def segment_new(request):
    return _edit(request, None)


@staff_permission_required("manage_segments")
def segment_edit(request, segment_id: int):
    segment = get_object_or_404(Segment, pk=segment_id)
    if segment.kind != Segment.Kind.DYNAMIC:
        raise Http404("static segments have no rules to edit")
    return _edit(request, segment)


def _edit(request, segment: Segment | None):
    types = attribute_types()
    if request.method != "POST":
        rule = segment.rules if segment else {"all": []}
        return _render(
            request,
            segment=segment,
            editor=_Editor.start(rule, types),
            name=segment.name if segment else "",
            description=segment.description if segment else "",
        )
    editor = _Editor(request.POST, types)
    name = request.POST.get("name", "").strip()
    description = request.POST.get("description", "").strip()
    page = {"segment": segment, "editor": editor, "name": name, "description": description}

    switch = request.POST.get("switch")
    action = request.POST.get("builder", "")
    if switch == "json" and editor.mode == "builder":
        editor.to_json()
        return _render(request, **page)
    if switch == "builder" and editor.mode == "json":
        editor.to_builder()
        return _render(request, **page)
    if action and editor.mode == "builder":
        _apply(editor.tree, action)
        return _render(request, **page)

    name_error = ""
    if not name:
        name_error = _("Give the segment a name.")
    elif len(name) > NAME_MAX:
        name_error = _("A name has at most %(max)d characters.") % {"max": NAME_MAX}
    preview = segment_preview(rules=editor.rule) if editor.ok else None
    if preview is not None and preview.errors:
        editor.rule_errors(preview.errors)
    if name_error or preview is None or preview.errors:
        return _render(request, **page, name_error=name_error, status=400)
    try:
        saved = segment_save(
            actor=request.user,
            ip_address=client_ip(request),
            segment=segment,
            name=name,
            description=description,
            rules=editor.rule,
        )
    except ValidationFailed as exc:
        editor.rule_errors(exc.errors)
        return _render(request, **page, status=400)
    except ApiError as exc:
        if exc.code == "already_exists":
            return _render(
                request, **page, name_error=_("A segment with this name exists."), status=400
            )
        raise
    if segment_fill_now(segment=saved, expected=preview.count):
        saved.refresh_from_db()
        count = saved.member_count
        message = ngettext(
            "Segment saved: %(count)s member.", "Segment saved: %(count)s members.", count
        )
    elif preview.count is not None or preview.at_least is not None:
        count = preview.count if preview.count is not None else preview.at_least
        message = ngettext(
            "Segment saved. About %(count)s member; counting now.",
            "Segment saved. About %(count)s members; counting them now.",
            count,
        )
    else:
        count, message = 0, _("Segment saved; counting its members now.")
    messages.success(request, message % {"count": number_format(count, force_grouping=True)})
    return redirect("customers:segment_members", segment_id=saved.pk)


def _apply(root: Node, action: str) -> None:
    """A builder button pressed without JavaScript: add:<type>:<group id> or remove:<id>."""
    verb, _sep, rest = action.partition(":")
    if verb == "add":
        node_type, _sep, parent_id = rest.partition(":")
        parent = _find(root, parent_id)
        if parent is not None and parent.type == GROUP and node_type in NODE_TYPES:
            parent.children.append(builder_form.blank_node(node_type))
    elif verb == "remove" and rest != root.id:
        _remove(root, rest)
    elif verb in ("add_where", "remove_where"):
        node_id, _sep, key = rest.partition(":")
        node = _find(root, node_id)
        if node is not None and node.type == "event":
            _change_where(node, verb, key)


def _change_where(node: Node, verb: str, key: str) -> None:
    keys = node.getlist("where")
    if verb == "add_where":
        node.values["where"] = [*keys, str(max([int(k) for k in keys if k.isdigit()] or [0]) + 1)]
    else:
        node.values["where"] = [k for k in keys if k != key]


@require_POST
@staff_permission_required("manage_segments")
def builder_row(request):
    """One row, rendered for htmx: a new one (add), or one re-drawn after its field, operator
    or kind changed (refresh), or nothing (remove)."""
    types = attribute_types()
    action = request.POST.get("action", "")
    tree = builder_form.form_to_tree(request.POST)
    decorate(tree, types)
    ctx = {"choices": builder_choices(segment_id=None)}
    response_node = None
    if action == "add":
        parent = _find(tree, request.POST.get("parent", ""))
        node_type = request.POST.get("type", "field")
        if parent is None or parent.type != GROUP or node_type not in NODE_TYPES:
            raise Http404("no such group")
        response_node = builder_form.blank_node(node_type)
        ctx["parent_id"] = parent.id
        response_node.depth = parent.depth + 1
    elif action == "remove":
        response = render(request, "customers/segments/_empty.html")
        response["HX-Trigger"] = "builder-changed"
        return response
    else:
        node = _find(tree, request.POST.get("row", ""))
        if node is None:
            raise Http404("no such row")
        ctx["parent_id"] = request.POST.get(f"{node.id}-parent", "")
        if request.POST.get("change") == "type" and node.type != GROUP:
            fresh = builder_form.blank_node(node.type)
            fresh.id = node.id
            fresh.depth = node.depth
            node = fresh
        elif action in ("add_where", "remove_where") and node.type == "event":
            _change_where(node, action, request.POST.get("key", ""))
        response_node = node
    depth = getattr(response_node, "depth", 1)
    decorate(response_node, types, depth=depth)
    ctx["node"] = response_node
    response = render(request, "customers/segments/_node.html", ctx)
    response["HX-Trigger"] = "builder-changed"
    return response


@require_POST
@staff_permission_required("manage_segments")
def segment_preview_view(request):
    """The count and a sample for the rule being edited (htmx, as the staff member types)."""
    editor = _Editor(request.POST, attribute_types())
    ctx = {"preview": None, "invalid": not editor.ok}
    if editor.ok:
        preview = segment_preview(rules=editor.rule)
        for error in preview.errors:
            error["message"] = rule_message(error["message"])
            error["field"] = (
                "" if error["field"] == "rules" else error["field"].removeprefix("rules.")
            )
        ctx["preview"] = preview
        ctx["invalid"] = bool(preview.errors)
    return render(request, "customers/segments/_preview.html", ctx)

"""The rule builder's rows as the page posts them, and back (see builder.py for the model).

Every node posts `node=<id>` (in page order), `<id>-parent` and `<id>-type`, and its values as
`<id>-<name>`. Also here: a new blank row, and putting the rule checker's errors on their rows.
"""

from customers.segments.builder import _ID, GROUP, JSON_ROW, NODE_TYPES, Node, Values, new_id

# --- tree ⇄ form --------------------------------------------------------------------------------


def tree_to_form(root: Node) -> list[tuple[str, str]]:
    """The (name, value) pairs the page posts for this tree, in page order."""
    pairs: list[tuple[str, str]] = []

    def visit(node: Node, parent: str) -> None:
        pairs.extend(
            [("node", node.id), (f"{node.id}-parent", parent), (f"{node.id}-type", node.type)]
        )
        for name, value in node.values.items():
            for item in value if isinstance(value, list) else [value]:
                pairs.append((f"{node.id}-{name}", item))
        for child in node.children:
            visit(child, node.id)

    visit(root, "")
    return pairs


def form_to_tree(data) -> Node:
    """The tree a posted builder form describes (`data` is a QueryDict or a list of pairs).

    Rows whose parent is not on the page are dropped; a form with no rows is an empty `all`.
    """
    pairs = list(data.lists()) if hasattr(data, "lists") else _group_pairs(data)
    posted: dict[str, list[str]] = dict(pairs)
    nodes: dict[str, Node] = {}
    order: list[str] = []
    for node_id in posted.get("node", []):
        if not _ID.match(node_id) or node_id in nodes:
            continue
        node_type = _first(posted, f"{node_id}-type")
        if node_type not in NODE_TYPES:
            continue
        prefix = f"{node_id}-"
        values: Values = {}
        for name, items in pairs:
            if name.startswith(prefix) and name not in (f"{prefix}parent", f"{prefix}type"):
                short = name.removeprefix(prefix)
                values[short] = items if _is_list(node_type, short) else items[-1]
        nodes[node_id] = Node(node_id, node_type, values)
        order.append(node_id)
    root = None
    for node_id in order:
        parent = _first(posted, f"{node_id}-parent")
        if parent == "" and root is None:
            root = nodes[node_id]
        elif parent in nodes and parent != node_id and nodes[parent].type == GROUP:
            nodes[parent].children.append(nodes[node_id])
    if root is None or root.type != GROUP:
        return Node(new_id(), GROUP, {"op": "all"}, [root] if root else [])
    return root


def _group_pairs(pairs: list[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return list(grouped.items())


def _first(posted: dict[str, list[str]], name: str) -> str:
    items = posted.get(name)
    return items[0] if items else ""


_LIST_VALUES = {("consent", "status"), ("rfm", "segment"), ("event", "where")}


def _is_list(node_type: str, name: str) -> bool:
    return (node_type, name) in _LIST_VALUES


def blank_node(node_type: str) -> Node:
    """A new row as "Add condition" / "Add group" puts it on the page."""
    if node_type == GROUP:
        return Node(new_id(), GROUP, {"op": "all"})
    defaults: dict[str, Values] = {
        "field": {"field": "first_name", "op": "equals", "value": ""},
        "consent": {"channel": "email", "status": ["opted_in"]},
        "reachable": {"channel": "email"},
        "identity": {"channel": "email"},
        "rfm": {"segment": []},
        "clv": {"clv_12m_op": "gte", "clv_12m_v": "100"},
        "event": {"name": "", "performed": "did", "where": [], "window": ""},
        "orders": {"count_op": "gte", "count_v": "1", "window": ""},
        "bought": {"by": "sku", "items": "", "window": ""},
        "segment": {"segment": ""},
        JSON_ROW: {"json": "{}"},
    }
    return Node(new_id(), node_type, dict(defaults.get(node_type, {})))


# --- errors back onto rows ----------------------------------------------------------------------


def attach_errors(root: Node, paths: list[tuple[str, str]], errors: list[dict[str, str]]) -> None:
    """Put each rule error on the row it concerns: the deepest node whose path starts the error's."""
    by_id = {}

    def index(node: Node) -> None:
        by_id[node.id] = node
        for child in node.children:
            index(child)

    index(root)
    for error in errors:
        target = root.id
        best = -1
        for path, node_id in paths:
            if _within(error["path"], path) and len(path) >= best:
                target, best = node_id, len(path)
        by_id[target].errors.append(error)


def _within(path: str, prefix: str) -> bool:
    return (
        prefix == ""
        or path == prefix
        or path.startswith(prefix + ".")
        or path.startswith(prefix + "[")
    )

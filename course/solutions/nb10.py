"""Solutions to notebook 10 (scenario files, traces), and a wrong answer for each."""

SOLUTIONS = {
    "10.1": """
cluster: {nodes: [n1, n2], adapter: redis}
latency: {client_ms: 5, adapter_ms: 2}
clients:
  - {name: bob, node: n2, rooms: [news]}
  - {name: carol, node: n1, rooms: [news]}
timeline:
  - {at: 10, emit: {id: m1, from: n1, to: [news], event: headline}}
  - {at: 20, leave: {client: bob, rooms: [news]}}
  - {at: 30, emit: {id: m2, from: n1, to: [news], event: headline}}
""",
    "10.2": {"n1": 104, "n2": 190, "n3": 201},
}

_SCENARIO_HEAD = """
cluster: {nodes: [n1, n2], adapter: redis}
latency: {client_ms: 5, adapter_ms: 2}
"""

WRONG = {
    "10.1": [
        # thinks leaving before m2 *arrives* (t=35) is enough: bob leaves at t=31, but his
        # node, n1, picked him when it sent m2 at t=30
        (
            "mistake",
            _SCENARIO_HEAD
            + """
clients:
  - {name: bob, node: n1, rooms: [news]}
  - {name: carol, node: n2, rooms: [news]}
timeline:
  - {at: 10, emit: {id: m1, from: n1, to: [news], event: headline}}
  - {at: 30, emit: {id: m2, from: n1, to: [news], event: headline}}
  - {at: 31, leave: {client: bob, rooms: [news]}}
""",
        ),
        # bob never in news
        (
            "mistake",
            _SCENARIO_HEAD
            + """
clients:
  - {name: bob, node: n2}
  - {name: carol, node: n1, rooms: [news]}
timeline:
  - {at: 10, emit: {id: m1, from: n1, to: [news], event: headline}}
  - {at: 30, emit: {id: m2, from: n1, to: [news], event: headline}}
""",
        ),
        # m2 sent from n2
        (
            "mistake",
            _SCENARIO_HEAD
            + """
clients:
  - {name: bob, node: n2, rooms: [news]}
  - {name: carol, node: n1, rooms: [news]}
timeline:
  - {at: 10, emit: {id: m1, from: n1, to: [news], event: headline}}
  - {at: 20, leave: {client: bob, rooms: [news]}}
  - {at: 30, emit: {id: m2, from: n2, to: [news], event: headline}}
""",
        ),
        ("type", {"clients": [], "timeline": []}),
    ],
    "10.2": [
        # every delivery of each node, not only those of messages emitted on another node
        ("mistake", {"n1": 258, "n2": 245, "n3": 236}),
        # the deliveries of messages emitted on the node itself
        ("mistake", {"n1": 154, "n2": 55, "n3": 35}),
        # one node missing
        ("mistake", {"n1": 104, "n2": 190}),
        ("type", {"n1": 104.5, "n2": 190, "n3": 201}),
        ("type", [104, 190, 201]),
    ],
}

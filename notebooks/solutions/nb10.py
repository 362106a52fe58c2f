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

WRONG = {
    # thinks leaving before m2 *arrives* (t=35) is enough: bob leaves at t=31, but his node,
    # n1, picked him when it sent m2 at t=30
    "10.1": """
cluster: {nodes: [n1, n2], adapter: redis}
latency: {client_ms: 5, adapter_ms: 2}
clients:
  - {name: bob, node: n1, rooms: [news]}
  - {name: carol, node: n2, rooms: [news]}
timeline:
  - {at: 10, emit: {id: m1, from: n1, to: [news], event: headline}}
  - {at: 30, emit: {id: m2, from: n1, to: [news], event: headline}}
  - {at: 31, leave: {client: bob, rooms: [news]}}
""",
    "10.2": {"n1": 258, "n2": 245, "n3": 236},  # every delivery of each node, not only those
    # of messages emitted on another node
}

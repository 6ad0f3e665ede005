from executions.engine.types import Usage


def test_usage_wire_shape():
    assert Usage(3, 4).to_wire() == {"inputTokens": 3, "outputTokens": 4}

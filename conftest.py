"""Root test configuration: every fixture module of the shared harness is a plugin here.

Tests run against real servers on loopback: PostgreSQL, NATS with JetStream and an
S3-compatible server. A missing server is started by the harness or fails the run loudly.
"""

pytest_plugins = [
    "tests.fixtures.browser",
    "tests.fixtures.db",
    "tests.fixtures.llm_server",
    "tests.fixtures.nats",
    "tests.fixtures.s3",
    "tests.fixtures.stack",
    "tests.fixtures.tally",
]

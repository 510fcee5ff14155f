from tests.accounts.helpers import fresh_cache  # noqa: F401  (autouse fixture)

pytest_plugins = ["tests.system"]

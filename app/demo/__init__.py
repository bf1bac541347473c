"""The demo of `make demo` and `flask demo seed`: its stores, their orders to try and returns
already made, in the sandbox (the fake Shopify) beside the app. The commands are in app/cli/demo.py."""

"""HTTP routers, one module per resource; `deps` holds the shared `Annotated` dependencies."""

"""The Admin API's objects, as `openai.types.admin` names them."""

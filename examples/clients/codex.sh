codex mcp add openai-router --url http://localhost:8000/mcp --bearer-token-env-var ROUTER_CLIENT_KEY

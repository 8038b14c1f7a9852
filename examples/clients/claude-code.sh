claude mcp add --transport http --header "Authorization: Bearer $ROUTER_CLIENT_KEY" openai-router http://localhost:8000/mcp

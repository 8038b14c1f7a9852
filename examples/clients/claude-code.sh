claude mcp add --transport http openai-router http://localhost:8000/mcp --header "Authorization: Bearer $ROUTER_CLIENT_KEY"

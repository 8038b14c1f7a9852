npx @modelcontextprotocol/inspector --cli http://localhost:8000/mcp --transport http \
  --header "Authorization: Bearer $ROUTER_CLIENT_KEY" --method tools/list
npx @modelcontextprotocol/inspector --cli http://localhost:8000/mcp --transport http \
  --header "Authorization: Bearer $ROUTER_CLIENT_KEY" --method tools/call --tool-name echo --tool-arg text=ping

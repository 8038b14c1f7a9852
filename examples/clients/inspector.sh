npx @modelcontextprotocol/inspector@2.12.0 --cli http://localhost:8000/mcp --transport http \
  --header "Authorization: Bearer $ROUTER_CLIENT_KEY" --method tools/list
npx @modelcontextprotocol/inspector@2.12.0 --cli http://localhost:8000/mcp --transport http \
  --header "Authorization: Bearer $ROUTER_CLIENT_KEY" --method tools/call --tool-name echo --tool-arg text=ping

"""ws_relay: authenticates WebSocket clients and pushes them the events they may see."""

"""Services outside Teams: Microsoft Graph, telemetry."""

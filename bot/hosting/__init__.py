"""HTTP in and out: the aiohttp server, sign-in (OpenID keys), the Bot Framework adapter and its
patches, the outbound connector, health and shutdown."""

"""FreshBooks: connector, object specs, OAuth, webhooks and the local sandbox emulator."""

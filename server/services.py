"""The long-running services the all-in-one server composes (see server.context.Service).

Each subsystem adds its factory here; they are started in this order and stopped in reverse.
"""

from __future__ import annotations

from server.context import Service, ServerContext


def build_services(ctx: ServerContext) -> list[Service]:
    services: list[Service] = []
    # Subsystems append themselves below, e.g.:
    #   from server.media.service import MediaService; services.append(MediaService(ctx))
    return services

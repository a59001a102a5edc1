"""An export as a streamed HTTP download: the REST API's answer and the console's."""

from __future__ import annotations

from flask import Response, current_app

from server import db
from server.exports import services
from server.rest import filename_parameters


def streamed(export: services.Export) -> Response:
    """The export as a streamed download named by its Chinese file name (RFC 6266/5987)."""
    response = Response(services.produce(db.database(), export),
                        mimetype=export.content_type.split(";")[0],
                        direct_passthrough=True)
    response.content_type = export.content_type
    response.headers.set("Content-Disposition", "attachment",
                         **filename_parameters(export.file_name))
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # a proxy (nginx) passes the stream on as made
    return response


def streamed_media(export: services.MediaExport) -> Response:
    """The media ZIP as a streamed download."""
    response = Response(services.produce_media(db.database(),
                                               current_app.extensions["fangpin.media"], export),
                        mimetype=export.content_type, direct_passthrough=True)
    response.headers.set("Content-Disposition", "attachment",
                         **filename_parameters(export.file_name))
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # a proxy (nginx) passes the stream on as made
    return response

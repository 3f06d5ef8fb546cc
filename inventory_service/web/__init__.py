"""The web UI: pages for people at the stations, served outside /api (so without the API's auth).

A page carries no data itself: its script reads the API with a bearer token that the person brings
(in the URL fragment, which browsers never send to the server, or typed into a form) and keeps in
`sessionStorage`. Everything (HTML, CSS, JS) is served from here: no CDN, no other host.
"""

from __future__ import annotations

from flask import Blueprint, Response, make_response, render_template, request

web = Blueprint("web", __name__, template_folder="templates", static_folder="static", static_url_path="/static/web")

# Only this origin's files and API; no inline script or style, no framing, no referrer.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@web.get("/stations/<scanner_id>")
def station(scanner_id: str) -> Response:
    """The station screen: mode, port state and the last scans, live from the scanner's event stream."""
    html = render_template("web/station.html", scanner_id=scanner_id, api_root=f"{request.script_root}/api/v1")
    response = make_response(html)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response

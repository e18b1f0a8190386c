"""The web route that sets the login cookie as HttpOnly, so no script in the page can read it.

A Streamlit script talks to the browser over the WebSocket and cannot set a cookie itself. After
sign-in (or sign-out) the page hands the browser a one-time code (`users.cookie_handover`), and
the browser posts it to this route, which answers with the cookie set (or removed):
`HttpOnly; SameSite=Strict`, and `Secure` over HTTPS. app.py serves it with `st.App`.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from lib.auth import users

ROUTE = "scorecard-session"  # where the browser trades a hand-over code for the cookie


def route_path(base: str = "") -> str:
    """The route's address under the app's base path (`server.baseUrlPath`)."""
    base = base.strip("/")
    return f"/{base}/{ROUTE}" if base else f"/{ROUTE}"


async def hand_over(request) -> Response:
    """Trade a one-time code for the cookie: 204 with the cookie set or removed, 404 for a code
    that is unknown, used or expired."""
    grant = users.redeem_handover(request.query_params.get("code"))
    response = Response(status_code=204 if grant else 404, headers={"Cache-Control": "no-store"})
    if grant is None:
        return response
    name, token, max_age = grant
    secure = request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
    if token:
        response.set_cookie(name, token, max_age=max_age, path="/", secure=secure,
                            httponly=True, samesite="strict")  # fmt: skip
    else:
        response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="strict")
    return response


def routes(base: str = "") -> list[Route]:
    return [Route(route_path(base), hand_over, methods=["POST"])]

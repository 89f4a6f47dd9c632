"""Steps the browser tests share: signing in and out through the forms, amounts as the pages show them."""

from __future__ import annotations


from redress.money import yuan

PASSWORD = "e2e-Passw0rd!"


def money(fen: int) -> str:
    """An amount as the pages show it (grouped yuan)."""
    return yuan(int(fen), grouping=True)


def sign_in(page, user: str, password: str = PASSWORD, shot=None) -> None:
    """Sign in through the form; waits for the page the app sends the user to."""
    page.goto("/login")
    page.locator("input[name=name]").fill(user)
    page.locator("input[name=password]").fill(password)
    if shot:
        shot(page, f"login-{user}")
    with page.expect_navigation():
        page.locator("form[action='/login'] button[type=submit]").click()
    if "/login" in page.url:
        error = page.locator("p.error").all_inner_texts()
        raise AssertionError(f"sign-in as {user} failed: {error}")


def sign_out(page) -> None:
    with page.expect_navigation():
        page.locator("form[action='/logout'] button[type=submit]").click()
    page.wait_for_url("**/login")

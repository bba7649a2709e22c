from conftest import run_async
from crawler.browse.login import perform_login, totp
from crawler.config import LoginConfig, LoginStep

RFC_6238_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of "12345678901234567890"


def test_totp_matches_rfc_6238_test_vectors():
    assert totp(RFC_6238_SECRET, at=59, digits=8) == "94287082"
    assert totp(RFC_6238_SECRET, at=1111111109, digits=8) == "07081804"
    assert totp(RFC_6238_SECRET, at=2000000000, digits=8) == "69279037"


def test_totp_accepts_lower_case_and_spaces_as_authenticator_apps_show_them():
    assert totp("gezd gnbv gy3t qojq gezd gnbv gy3t qojq", at=59) == "287082"


# A failed login says which step and why, or what the page said (fakes of the few Page calls used).


class _Locator:
    def __init__(self, page, selector):
        self.page, self.selector = page, selector

    async def count(self):
        return 1 if self.selector in self.page.elements else 0

    async def all_inner_texts(self):
        return [self.page.error_text] if self.page.error_text else []

    async def inner_text(self, timeout=None):
        return self.page.body


class _Page:
    url = "https://app.vendor.example/signin"

    def __init__(self, elements, error_text="", body=""):
        self.elements, self.error_text, self.body = elements, error_text, body

    def locator(self, selector):
        return _Locator(self, selector)

    async def fill(self, selector, value, timeout):
        if selector not in self.elements:
            raise TimeoutError(f"Page.fill: Timeout {timeout:.0f}ms exceeded.")

    async def click(self, selector, timeout):
        await self.fill(selector, None, timeout)

    async def wait_for_selector(self, selector, timeout):
        raise TimeoutError("Timeout exceeded")


LOGIN = LoginConfig(
    "https://app.vendor.example/signin",
    (
        LoginStep("fill", "#email", "{username}"),
        LoginStep("fill", "#passwd", "{password}"),
        LoginStep("click", "button"),
    ),
    success_selector="#welcome",
)


def login(page):
    return run_async(perform_login(page, LOGIN, {"username": "u", "password": "p"}, 0.01, page_status=200))


def test_a_missing_element_names_the_step_and_the_selector():
    result = login(_Page({"#email", "button"}))
    assert result.outcome == "error"
    assert result.message == "login failed at step 2: no element matches `#passwd` on the login page (HTTP 200)"


def test_a_refused_login_says_what_the_page_said():
    result = login(_Page({"#email", "#passwd", "button"}, error_text="Invalid email or password"))
    assert result.outcome == "failed" and result.message == "login failed: the page said 'Invalid email or password'"
    shown_in_text = login(_Page({"#email", "#passwd", "button"}, body="Sign in\nWrong password, try again\nEmail"))
    assert shown_in_text.message == "login failed: the page said 'Wrong password, try again'"
    silent = login(_Page({"#email", "#passwd", "button"}, body="Sign in"))
    assert silent.message.startswith("login failed: the success check (selector '#welcome') did not pass")

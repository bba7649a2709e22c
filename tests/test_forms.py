from crawler.browse.forms import page_forms

SIGNUP = """<html><body>
<form action="/signup" method="POST">
  <label for="first">First name</label><input id="first" name="fn">
  <label>Parent's e-mail <input name="contact" type="email"></label>
  <input type="date" name="dob">
  <select name="grade"><option>3</option></select>
  <input type="password" name="pw"><input type="hidden" name="csrf" value="x">
  <button type="submit">Join</button>
</form>
<form action="/search"><input name="q" placeholder="Search games"></form>
</body></html>"""


def test_signup_form_fields_and_what_they_ask_for():
    signup, search = page_forms(SIGNUP)
    assert signup["action"] == "/signup" and signup["method"] == "post"
    assert signup["asks_for"] == ["birth date", "email", "name", "password", "school"]
    assert [f["name"] for f in signup["fields"]] == ["fn", "contact", "dob", "grade", "pw"]
    assert search["asks_for"] == [] and search["method"] == "get"


def test_garbage_html_gives_no_form():
    assert page_forms("\x00\xff<<form") == ()
    assert page_forms("<form><input name=") == ({"action": None, "method": "get", "fields": [], "asks_for": []},)

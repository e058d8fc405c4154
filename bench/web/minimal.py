"""The yardstick: a Flask app that returns a fixed string, served the same way as Oqu."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def fixed() -> str:
    return "ok"

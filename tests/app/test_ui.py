"""The Gradio wiring: named endpoints, launch options, and Gradio kept optional."""

from __future__ import annotations

import subprocess
import sys

from diploqa import app
from diploqa.app import ui


def test_create_app_exposes_named_search_endpoints(app_holder):
    demo = app.create_app(holder=app_holder)
    endpoints = demo.get_api_info()["named_endpoints"]
    assert set(endpoints) == {"/search", "/search_json"}
    params = [p["parameter_name"] for p in endpoints["/search_json"]["parameters"]]
    assert params == ["question", "k"]
    fns = {fn.api_name: fn.fn for fn in demo.fns.values() if fn.api_name}
    assert fns["search"].__name__ == "search" and fns["search"].__doc__
    assert fns["search_json"].__name__ == "search_json"
    assert fns["search"]("Who did Kerry meet in Sochi?", 1).count('class="dq-card"') == 1


def test_serve_warns_when_exposed_and_passes_launch_options(
    app_holder, monkeypatch, capsys, seed_index, seed_copy
):
    seen = {}

    def fake_launch(self, **kwargs):
        seen.update(kwargs)

    monkeypatch.setattr(ui.gr.Blocks, "launch", fake_launch)
    assert app.serve(seed_index.path, seed_copy, host="0.0.0.0", port=7999) == 0
    assert "exposed to the network" in capsys.readouterr().err
    assert seen["server_name"] == "0.0.0.0" and seen["server_port"] == 7999
    assert seen["max_file_size"] == app.MAX_UPLOAD_BYTES
    assert seen["mcp_server"] == app.mcp_available()
    assert seen["css"] and seen["theme"] is not None

    assert app.serve(seed_index.path, seed_copy, host="127.0.0.1", port=7999) == 0
    assert "exposed" not in capsys.readouterr().err


def test_serve_reports_port_in_use(monkeypatch, capsys, seed_index, seed_copy):
    def fail(self, **kwargs):
        raise OSError("Cannot find empty port")

    monkeypatch.setattr(ui.gr.Blocks, "launch", fail)
    assert app.serve(seed_index.path, seed_copy, port=7999) == 1
    assert "cannot serve" in capsys.readouterr().err


def test_analytics_disabled():
    import os

    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"


def test_everything_but_the_wiring_imports_without_gradio():
    # Gradio is the optional 'ui' extra: state, rendering, handlers and uploads must not need it.
    script = (
        "import sys\n"
        "sys.modules['gradio'] = None\n"
        "import diploqa.app\n"
        "from diploqa.app import handlers, render, state, uploads\n"
        "assert diploqa.app.save_upload is uploads.save_upload\n"
        "try:\n"
        "    diploqa.app.create_app\n"
        "except ImportError as err:\n"
        "    print('needs', err.name)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "needs gradio"


def test_package_reexports_the_ui_names():
    assert app.create_app is ui.create_app and app.serve is ui.serve
    assert app.gr is ui.gr and app.MAX_UPLOAD_BYTES == ui.MAX_UPLOAD_BYTES

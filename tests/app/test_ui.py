"""The Gradio wiring: named endpoints, launch options, and Gradio kept optional."""

from __future__ import annotations

import subprocess
import sys

from diploqa import app
from diploqa.app import server, ui


def test_create_app_exposes_named_search_endpoints(app_holder):
    demo = app.create_app(holder=app_holder)
    endpoints = demo.get_api_info()["named_endpoints"]
    assert set(endpoints) == {"/search", "/search_json"}
    params = [p["parameter_name"] for p in endpoints["/search_json"]["parameters"]]
    assert params == ["question", "k", "outlet", "since", "until", "source", "sort"]
    required = [p["parameter_name"] for p in endpoints["/search"]["parameters"]
                if not p["parameter_has_default"]]  # fmt: skip
    assert required == ["question"]  # gradio_client callers may give the question alone
    fns = {fn.api_name: fn.fn for fn in demo.fns.values() if fn.api_name}
    assert fns["search"].__name__ == "search" and fns["search"].__doc__
    assert fns["search_json"].__name__ == "search_json"
    assert fns["search"]("Who did Kerry meet in Sochi?", 1).count('class="dq-card"') == 1


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
    assert app.create_app is ui.create_app and app.serve is server.serve
    assert app.gr is ui.gr and app.MAX_UPLOAD_BYTES == ui.MAX_UPLOAD_BYTES


def test_search_only_app_has_no_editing_function(app_holder):
    reader = app.create_app(holder=app_holder, editing=False, sign_out=True)
    editor = app.create_app(holder=app_holder)
    names = {fn.fn.__name__ for fn in reader.fns.values() if fn.fn}
    assert names.isdisjoint({"on_upload", "on_update", "on_rebuild"})
    assert {"on_upload", "on_update", "on_rebuild"} <= {
        fn.fn.__name__ for fn in editor.fns.values() if fn.fn
    }
    ids = {getattr(block, "elem_id", None) for block in reader.blocks.values()}
    assert "question" in ids
    assert not ids & {"upload", "update", "rebuild", "upload-report"}

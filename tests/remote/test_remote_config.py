"""The remote models file: what it accepts, its defaults, and the errors that name the wrong entry."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from pollama.config import Settings
from pollama.engines.remote_config import RemoteConfigError, load, parse
from pollama.engines.remote_models import RemoteModels


def models(text: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return parse(tomllib.loads(text), env or {})


def test_full_entry() -> None:
    (m,) = models(
        """
        [defaults]
        health_interval = 2
        [[models]]
        name = "Coder:32B"
        model = "Qwen/Qwen2.5-Coder-32B-Instruct"
        engine = "vllm"
        upstreams = ["http://gpu1:8000/v1/", { url = "http://gpu2:8000", api_key_env = "K", parallel = 64 }]
        api_key = "shared"
        parallel = 32
        system = "Be terse."
        parameters = { temperature = 0.2, stop = ["<|im_end|>"] }
        capabilities = ["completion", "tools"]
        context_length = 32768
        """,
        {"K": " secret2 "},
    )
    assert m.display_name == "Coder:32B" and m.model == "Qwen/Qwen2.5-Coder-32B-Instruct" and m.engine == "vllm"
    assert [(u.url, u.api_key, u.parallel) for u in m.upstreams] == [
        ("http://gpu1:8000", "shared", 32),
        ("http://gpu2:8000", "secret2", 64),
    ]
    assert m.capacity == 96 and m.health_interval == 2.0 and m.context_length == 32768
    assert m.parameters == {"temperature": 0.2, "stop": ["<|im_end|>"]}
    assert m.capabilities == ("completion", "tools")


def test_defaults() -> None:
    (m,) = models('[[models]]\nname = "m"\nupstreams = "http://h:1"')
    assert m.model == "m" and m.engine == "openai" and m.upstreams[0].parallel == 4 and m.template is None


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('upstreams = ["http://h:1"]', "name is required"),
        ('name = "bad name!"\nupstreams = ["http://h:1"]', "invalid model name"),
        ('name = "m"', "upstreams must list"),
        ('name = "m"\nupstreams = ["ftp://h"]', "must be http(s)"),
        ('name = "m"\nupstreams = ["http://h:1", "http://h:1/"]', "listed twice"),
        ('name = "m"\nupstreams = ["http://h:1"]\nengine = "tgi"', "engine must be one of"),
        ('name = "m"\nupstreams = ["http://h:1"]\nparameters = { temprature = 1 }', "unknown parameter 'temprature'"),
        ('name = "m"\nupstreams = ["http://h:1"]\nparameters = { temperature = "hot" }', "must be of type float"),
        ('name = "m"\nupstreams = ["http://h:1"]\nparallel = 0', "parallel must be a positive integer"),
        ('name = "m"\nupstreams = ["http://h:1"]\napi_key_env = "NOPE"', "NOPE, which is not set"),
        ('name = "m"\nupstreams = ["http://h:1"]\ntemplate = "a"\nchat_template = "b"', "not both"),
        ('name = "m"\nupstreams = ["http://h:1"]\ncolour = 1', "unknown key 'colour'"),
    ],
)
def test_errors_name_the_entry(entry: str, message: str) -> None:
    with pytest.raises(RemoteConfigError, match="models\\[0\\]") as err:
        models("[[models]]\n" + entry)
    assert message in str(err.value)


def test_duplicate_names_fold_case() -> None:
    with pytest.raises(RemoteConfigError, match="used twice"):
        models('[[models]]\nname = "M"\nupstreams = "http://a"\n[[models]]\nname = "m"\nupstreams = "http://b"')


def test_file_loading(tmp_path: Path) -> None:
    missing = tmp_path / "remotes.toml"
    assert load(missing, required=False).models == ()
    with pytest.raises(RemoteConfigError, match="no such file"):
        load(missing, required=True)
    missing.write_text("[[models]\n")
    with pytest.raises(RemoteConfigError, match=str(missing)):
        load(missing, required=False)
    missing.write_text('[[models]]\nname = "qwen-remote:latest"\nupstreams = "http://h:1"\n')
    config = load(missing, required=False)
    assert config.find("qwen-remote") is config.find("QWEN-REMOTE:latest") is config.models[0]
    assert config.find("other") is None and config.find("bad name!") is None


def test_setting_and_default_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings.from_env({"OLLAMA_REMOTES": " '/x/r.toml' "}).remotes == "/x/r.toml"
    assert Settings.from_env({}).remotes == ""
    monkeypatch.setenv("HOME", str(tmp_path))
    assert RemoteModels.from_setting("").models == ()  # no ~/.ollama/remotes.toml: no remote models
    (tmp_path / ".ollama").mkdir()
    (tmp_path / ".ollama" / "remotes.toml").write_text('[[models]]\nname = "r"\nupstreams = "http://h:1"\n')
    assert [m.display_name for m in RemoteModels.from_setting("").models] == ["r:latest"]
    with pytest.raises(RemoteConfigError):
        RemoteModels.from_setting(str(tmp_path / "absent.toml"))


def test_store_operations_on_a_remote_name_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text('[[models]]\nname = "r"\nengine = "vllm"\nupstreams = "http://h:1"\n')
    remotes = RemoteModels.from_setting(str(path))
    remotes.refuse("other", "delete")
    with pytest.raises(Exception, match='cannot delete "r:latest": it is a remote model served by vllm'):
        remotes.refuse("r:latest", "delete")


def test_serve_refuses_to_start_with_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "remotes.toml"
    path.write_text('[[models]]\nname = "x"\n')
    env = {**os.environ, "HOME": str(tmp_path), "OLLAMA_HOST": "127.0.0.1:0", "OLLAMA_REMOTES": str(path)}
    done = subprocess.run(
        [sys.executable, "-m", "pollama.cli.main", "serve"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert done.stderr.strip() == f"Error: {path}: models[0] (x): upstreams must list at least one URL"

"""The deploy files agree with the code and keep what deploy/README.md promises.

No Docker engine or systemd runs here: the files are parsed. Each test names the property it
guards (the AOF, a graceful stop, scaling, ...) so a failure says what a change broke.
"""

from __future__ import annotations

import itertools
import json
import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path, PurePosixPath

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
DOCKERFILE = DEPLOY / "Dockerfile"
UNIT = DEPLOY / "systemd" / "linkwatch-worker@.service"
ENV_EXAMPLE = DEPLOY / "systemd" / "worker.env.example"
GUIDE = DEPLOY / "README.md"

# From compose-spec/schema/compose-spec.json. Top level: what a file of ours may use (the
# spec also has `include` and `models`; `version` is obsolete and only draws a warning).
COMPOSE_TOP_LEVEL = {"name", "services", "networks", "volumes", "configs", "secrets"}
COMPOSE_SERVICE = {
    "annotations", "attach", "blkio_config", "build", "cap_add", "cap_drop", "cgroup",
    "cgroup_parent", "command", "configs", "container_name", "cpu_count", "cpu_percent",
    "cpu_period", "cpu_quota", "cpu_rt_period", "cpu_rt_runtime", "cpu_shares", "cpus",
    "cpuset", "credential_spec", "depends_on", "deploy", "develop", "device_cgroup_rules",
    "devices", "dns", "dns_opt", "dns_search", "domainname", "entrypoint", "env_file",
    "environment", "expose", "extends", "external_links", "extra_hosts", "gpus", "group_add",
    "healthcheck", "hostname", "image", "init", "ipc", "isolation", "label_file", "labels",
    "links", "logging", "mac_address", "mem_limit", "mem_reservation", "mem_swappiness",
    "memswap_limit", "models", "network_mode", "networks", "oom_kill_disable",
    "oom_score_adj", "pid", "pids_limit", "platform", "ports", "post_start", "pre_stop",
    "privileged", "profiles", "provider", "pull_policy", "pull_refresh_after", "read_only",
    "restart", "runtime", "scale", "secrets", "security_opt", "shm_size", "stdin_open",
    "stop_grace_period", "stop_signal", "storage_opt", "sysctls", "tmpfs", "tty", "ulimits",
    "use_api_socket", "user", "userns_mode", "uts", "volumes", "volumes_from", "working_dir",
}  # fmt: skip
COMPOSE_BUILD = {
    "context", "dockerfile", "dockerfile_inline", "entitlements", "args", "ssh", "labels",
    "cache_from", "cache_to", "no_cache", "additional_contexts", "network", "pull", "target",
    "shm_size", "extra_hosts", "isolation", "privileged", "secrets", "tags", "ulimits",
    "platforms",
}  # fmt: skip
COMPOSE_HEALTHCHECK = {
    "disable", "interval", "retries", "test", "timeout", "start_period", "start_interval",
}  # fmt: skip
COMPOSE_DEPENDS_ON = {"condition", "restart", "required"}
COMPOSE_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}

# Seconds a stop needs beyond an in-flight download (DOWNLOAD_TIMEOUT) to flush the store
# buffer and release the leases.
FLUSH_MARGIN = 15

ENV_REFERENCE = re.compile(r"(?<!\$)\$\{?([A-Za-z_][A-Za-z0-9_]*)")


# --- Reading the files ---------------------------------------------------------------------


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def service(name: str) -> dict:
    return compose()["services"][name]


def environment(svc: dict) -> dict[str, str]:
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {str(k): str(v) for k, v in env.items()}


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    instructions, pending = [], ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue  # Docker drops comment lines inside a continuation too
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    assert not pending, "Dockerfile ends inside a continuation line"
    return instructions


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile()
    starts = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    assert starts and starts[0] == 0, "a Dockerfile starts with FROM"
    return instructions[starts[-1] :]


def copies(instructions: list[tuple[str, str]]) -> list[tuple[dict[str, str], list[str], str]]:
    """(flags, sources, destination) of each COPY."""
    result = []
    for keyword, arguments in instructions:
        if keyword != "COPY":
            continue
        words = shlex.split(arguments)
        flags = dict(w[2:].partition("=")[::2] for w in words if w.startswith("--"))
        paths = [w for w in words if not w.startswith("--")]
        result.append((flags, paths[:-1], paths[-1]))
    return result


def env_instruction(arguments: str) -> dict[str, str]:
    return dict(word.partition("=")[::2] for word in shlex.split(arguments))


def unit(path: Path = UNIT) -> dict[str, dict[str, list[str]]]:
    """A systemd unit as {section: {key: [values in order]}} (keys may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current, pending = None, ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line[0] in "#;"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, sep, value = line.partition("=")
        assert sep and current is not None, f"not a unit file line: {raw!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def unit_value(section: str, key: str) -> str:
    values = unit().get(section, {}).get(key)
    assert values, f"{UNIT.name}: [{section}] has no {key}="
    return values[-1]


def unit_environment() -> dict[str, str]:
    env = {}
    for value in unit()["Service"].get("Environment", []):
        env.update(word.partition("=")[::2] for word in shlex.split(value))
    return env


def env_example() -> tuple[dict[str, str], set[str]]:
    """({NAME: value} of the set variables, names of all documented ones, set or #NAME=).

    A variable counts as documented only below a comment that is not itself an assignment.
    """
    values, documented = {}, set()
    explained = False
    for line in ENV_EXAMPLE.read_text().splitlines():
        assignment = re.fullmatch(r"(#?)([A-Za-z_][A-Za-z0-9_]*)=(.*)", line.strip())
        if assignment:
            commented, name, value = assignment.groups()
            assert explained, f"{ENV_EXAMPLE.name}: {name} has no comment above it"
            documented.add(name)
            if not commented:
                values[name] = value
        # A prose comment explains what follows, up to the next blank line.
        explained = (line.startswith("#") and not assignment) or (explained and bool(assignment))
    return values, documented


def env_read_by_settings() -> set[str]:
    """Environment variables the settings profiles read (os.environ / os.getenv)."""
    pattern = re.compile(r"""os\.(?:environ\.get\(|environ\[|getenv\()\s*["']([A-Z0-9_]+)["']""")
    sources = (path.read_text() for path in (ROOT / "settings").glob("*.py"))
    return {name for source in sources for name in pattern.findall(source)}


def seconds(duration: str) -> float:
    """Compose ("1m30s") and systemd ("90", "1min 30s") durations."""
    units = {"h": 3600, "min": 60, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "": 1}
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*(h|min|ms|us|m|s|)", duration)
    assert parts and "".join(n + u for n, u in parts) == re.sub(r"\s", "", duration), duration
    return sum(float(number) * units[suffix] for number, suffix in parts)


def download_timeout() -> int:
    import settings.base

    return settings.base.DOWNLOAD_TIMEOUT


# --- Compose ---------------------------------------------------------------------------------


def test_compose_uses_only_compose_specification_keys():
    spec = compose()
    assert isinstance(spec, dict) and "version" not in spec
    assert set(spec) - COMPOSE_TOP_LEVEL <= {k for k in spec if k.startswith("x-")}
    assert spec["services"], "no services"
    for name, svc in spec["services"].items():
        unknown = {k for k in svc if not k.startswith("x-")} - COMPOSE_SERVICE
        assert not unknown, f"service {name}: not Compose Specification keys: {unknown}"
        build = svc.get("build", {})
        assert isinstance(build, str) or set(build) <= COMPOSE_BUILD, (name, build)
        assert set(svc.get("healthcheck", {})) <= COMPOSE_HEALTHCHECK, name
        depends_on = svc.get("depends_on") or {}
        if isinstance(depends_on, list):  # the short form: names only
            depends_on = dict.fromkeys(depends_on)
        for dependency, condition in depends_on.items():
            assert dependency in spec["services"], (name, dependency)
            if isinstance(condition, dict):
                assert set(condition) <= COMPOSE_DEPENDS_ON, (name, condition)
                assert condition["condition"] in COMPOSE_CONDITIONS, (name, condition)


def test_compose_named_volumes_are_declared():
    spec = compose()
    declared = set(spec.get("volumes") or {})
    for name, svc in spec["services"].items():
        for mount in svc.get("volumes", []):
            source = mount.split(":")[0] if isinstance(mount, str) else mount.get("source", "")
            if source and not source.startswith((".", "/", "~")):
                assert source in declared, f"service {name}: volume {source} not declared"


def test_redis_keeps_the_crawl():
    """AOF on with an fsync a second, no eviction, data in a named volume."""
    redis = service("redis")
    command = redis["command"]
    args = shlex.split(command) if isinstance(command, str) else [str(w) for w in command]
    options = {}
    for flag, value in itertools.pairwise(args):
        if flag.startswith("--"):
            options[flag[2:]] = value
    assert args[0] == "redis-server"
    assert options.get("appendonly") == "yes", "without the AOF a restart forgets the crawl"
    assert options.get("appendfsync") == "everysec"
    assert options.get("maxmemory-policy") == "noeviction", "eviction silently drops work"
    mounts = {m.split(":")[1]: m.split(":")[0] for m in redis["volumes"]}
    assert mounts.get("/data") in compose()["volumes"], "Redis data must be a named volume"
    assert redis.get("healthcheck", {}).get("test"), "workers wait for a healthy Redis"


def test_mongo_keeps_the_link_graph():
    mongo = service("mongo")
    mounts = {m.split(":")[1]: m.split(":")[0] for m in mongo["volumes"]}
    assert mounts.get("/data/db") in compose()["volumes"]
    assert mongo.get("healthcheck", {}).get("test"), "workers wait for a healthy MongoDB"


def test_worker_scales_and_stops_gracefully():
    worker = service("worker")
    assert "container_name" not in worker, "a fixed name breaks --scale worker=N"
    assert "ports" not in worker, "published ports break --scale worker=N"
    assert worker.get("restart") == "unless-stopped"
    assert worker.get("stop_signal", "SIGTERM") == "SIGTERM"
    grace = seconds(worker.get("stop_grace_period", "10s"))
    assert grace >= download_timeout() + FLUSH_MARGIN, "a stop must outlast a download + flush"
    for server in ("redis", "mongo"):
        assert worker["depends_on"][server]["condition"] == "service_healthy", server


def test_worker_builds_the_dockerfile():
    build = service("worker")["build"]
    context = (COMPOSE.parent / build["context"]).resolve()
    assert context == ROOT, "the build context is the repository root"
    assert (context / build["dockerfile"]).resolve() == DOCKERFILE


def test_worker_environment_names_settings_the_project_reads():
    import settings.base

    names = set(environment(service("worker")))
    assert {"REDIS_URL", "MONGO_URI", "MONGO_DATABASE"} <= names
    unread = names - env_read_by_settings()
    assert not unread, f"the worker sets variables no setting reads: {unread}"
    for name in names:
        assert hasattr(settings.base, name), name
    assert environment(service("worker"))["REDIS_URL"].startswith("redis://redis:")
    assert environment(service("worker"))["MONGO_URI"].startswith("mongodb://mongo:")


def test_cli_is_a_tool_on_the_workers_image():
    cli, worker = service("cli"), service("worker")
    assert "tools" in cli.get("profiles", []), "`up` must not start the cli"
    assert cli.get("image") == worker.get("image") and cli.get("build") == worker.get("build")
    assert environment(cli) == environment(worker)
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert cli["command"][0] in scripts


# --- One command everywhere --------------------------------------------------------------


def worker_commands() -> dict[str, list[str]]:
    cmd = dict(final_stage())["CMD"]
    exec_start = shlex.split(unit_value("Service", "ExecStart"))
    return {
        "docker-compose.yml": service("worker")["command"],
        "Dockerfile CMD": json.loads(cmd),  # exec form: the signal goes to scrapy itself
        "systemd ExecStart": [PurePosixPath(exec_start[0]).name, *exec_start[1:]],
    }


@pytest.mark.parametrize("where", ["docker-compose.yml", "Dockerfile CMD", "systemd ExecStart"])
def test_worker_command_crawls_the_backlinks_spider(where):
    from crawler.spiders.backlinks import BacklinksSpider

    command = worker_commands()[where]
    assert command == ["scrapy", "crawl", BacklinksSpider.name], command


# --- Dockerfile ----------------------------------------------------------------------------


def test_dockerfile_image_is_small_and_unprivileged():
    stage = final_stage()
    keywords = dict(stage)
    assert keywords["FROM"].split()[0] == "python:3.11-slim"
    users = [args for keyword, args in stage if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}, "the worker runs as root"
    env = {}
    for keyword, args in stage:
        if keyword == "ENV":
            env.update(env_instruction(args))
    assert env.get("PYTHONUNBUFFERED") == "1"
    assert keywords.get("STOPSIGNAL") == "SIGTERM"
    healthcheck = keywords.get("HEALTHCHECK", "NONE")
    if healthcheck != "NONE":
        # Exec form, so no shell stands between Docker and the check.
        command = json.loads(healthcheck[healthcheck.index("CMD ") + 4 :])
        assert command[:2] == ["python", "-c"], command
        code = command[2]
        assert "REDIS_URL" in code and ".ping()" in code, "a healthcheck must check something real"


def test_dockerfile_installs_the_packages_without_tests():
    from setuptools import find_packages

    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    packages = find_packages(str(ROOT), include=include["packages"]["find"]["include"])
    top_level = {name.split(".")[0] for name in packages}
    assert {"crawler", "pipelines", "settings"} <= top_level
    sources = {
        source.rstrip("/")
        for flags, paths, _ in copies(dockerfile())
        if "from" not in flags
        for source in paths
    }
    missing = top_level - sources
    assert not missing, f"the image would lack packages: {missing}"
    assert "pyproject.toml" in sources
    assert not sources & {".", "tests", "bench"}, "the image takes no tests and no benchmarks"
    installs = [args for keyword, args in dockerfile() if keyword == "RUN" and "pip " in args]
    assert any(re.search(r"pip install (--?\S+ )*\.(\s|$)", args) for args in installs), installs
    assert not any("[test]" in args or " -e " in args for args in installs), installs


def test_dockerfile_workdir_holds_scrapy_cfg():
    workdir, cfg_dir, venv = None, None, None
    for keyword, args in final_stage():
        if keyword == "WORKDIR":
            workdir = PurePosixPath(workdir or "/") / args
        elif keyword == "COPY":
            ((flags, sources, dest),) = copies([(keyword, args)])
            target = PurePosixPath(workdir or "/") / dest
            if sources == ["scrapy.cfg"]:
                cfg_dir = target if dest.endswith("/") or dest == "." else target.parent
            if "from" in flags:
                assert sources == [dest], "a venv must not move: its scripts name their python"
                venv = dest.rstrip("/")
    assert (ROOT / "scrapy.cfg").is_file()
    assert cfg_dir is not None and cfg_dir == workdir, "scrapy crawl looks in its workdir"
    env = {}
    for keyword, args in final_stage():
        if keyword == "ENV":
            env.update(env_instruction(args))
    assert venv and env["PATH"].startswith(f"{venv}/bin:"), "scrapy is the venv's"


# --- systemd ---------------------------------------------------------------------------------


def test_unit_runs_a_worker_that_stops_gracefully():
    sections = unit()
    assert set(sections) == {"Unit", "Service", "Install"}
    assert UNIT.name.endswith("@.service"), "a template: linkwatch-worker@1, @2, ..."
    exec_start = shlex.split(unit_value("Service", "ExecStart"))
    assert PurePosixPath(exec_start[0]).is_absolute()
    assert unit_value("Service", "KillSignal") == "SIGTERM"
    assert unit_value("Service", "Restart") in {"on-failure", "on-abnormal", "always"}
    assert unit_value("Service", "EnvironmentFile") == "/etc/linkwatch/worker.env", (
        "no leading '-': without its file a worker must not start"
    )
    assert unit_value("Service", "User") not in {"root", "0"}
    stop = seconds(unit_value("Service", "TimeoutStopSec"))
    assert stop >= download_timeout() + FLUSH_MARGIN, "a stop must outlast a download + flush"
    assert unit_value("Install", "WantedBy")


def test_unit_is_hardened_but_can_write_its_state():
    expected = {
        "NoNewPrivileges": {"yes", "true"},
        "ProtectSystem": {"strict"},
        "ProtectHome": {"yes", "true", "read-only", "tmpfs"},
        "PrivateTmp": {"yes", "true"},
    }
    for key, allowed in expected.items():
        assert unit_value("Service", key) in allowed, key
    service = unit()["Service"]
    # systemd creates a StateDirectory= owned by User=; a ReadWritePaths= that does not exist
    # fails the start (226/NAMESPACE) unless it begins with "-".
    state = [
        PurePosixPath("/var/lib") / name
        for value in service.get("StateDirectory", [])
        for name in value.split()
    ]
    for value in service.get("ReadWritePaths", []):
        for path in value.split():
            created = any(PurePosixPath(path).is_relative_to(s) for s in state)
            assert path.startswith("-") or created, f"ReadWritePaths={path} may not exist"
    database = PurePosixPath(unit_environment()["LINKWATCH_DB"])
    assert any(database.is_relative_to(path) for path in state), (
        f"LINKWATCH_DB={database} is not in the unit's StateDirectory (ProtectSystem=strict)"
    )


def test_unit_passes_systemd_analyze_verify(tmp_path):
    """systemd's own parser: unknown keys (a typo in a hardening option) and bad values."""
    analyze, true = shutil.which("systemd-analyze"), shutil.which("true")
    if analyze is None or true is None:
        pytest.skip("systemd-analyze is not installed")
    # verify insists that ExecStart's program exists; /opt/linkwatch is not installed here.
    program = shlex.split(unit_value("Service", "ExecStart"))[0]
    (tmp_path / UNIT.name).write_text(UNIT.read_text().replace(program, true))
    instance = tmp_path / UNIT.name.replace("@.service", "@1.service")
    instance.symlink_to(UNIT.name)
    result = subprocess.run(
        [analyze, "verify", "--man=no", str(instance)], capture_output=True, text=True, timeout=60
    )
    output = result.stdout + result.stderr
    complaints = [line for line in output.splitlines() if "linkwatch-worker@" in line]
    assert not complaints, "\n".join(complaints)
    if result.returncode != 0:
        pytest.skip(f"systemd-analyze cannot run here: {output.strip()[:300]}")


def test_guide_installs_scrapy_cfg_into_the_units_working_directory():
    workdir = PurePosixPath(unit_value("Service", "WorkingDirectory"))
    destinations = re.findall(r"install .*\bscrapy\.cfg (\S+)", GUIDE.read_text())
    assert destinations, "deploy/README.md says where scrapy.cfg goes"
    for dest in destinations:
        dest = PurePosixPath(dest)
        assert (dest.parent if dest.name == "scrapy.cfg" else dest) == workdir


# --- The environment file --------------------------------------------------------------------


def test_env_example_documents_every_variable():
    _, documented = env_example()
    exec_start = " ".join(unit()["Service"].get("ExecStart", []))
    used = {
        "compose worker": set(environment(service("worker"))),
        "compose interpolation": set(ENV_REFERENCE.findall(COMPOSE.read_text())),
        "unit Environment=": set(unit_environment()),
        "unit ExecStart": set(ENV_REFERENCE.findall(exec_start)),
        "settings/*.py": env_read_by_settings(),
    }
    for where, names in used.items():
        missing = names - documented
        assert not missing, f"{ENV_EXAMPLE.name} does not document {missing} ({where})"


def test_env_example_holds_placeholders_and_says_who_may_read_it():
    values, _ = env_example()
    assert {"REDIS_URL", "MONGO_URI"} <= set(values), "a worker needs both to join a crawl"
    for name, value in values.items():
        assert not value.startswith(("'", '"')), f"{name}: docker --env-file keeps quotes"
        for password in re.findall(r"://[^:/@\s]+:([^@\s]+)@", value):
            assert password == "CHANGE-ME", f"{name}: a real-looking password in an example"
    text = ENV_EXAMPLE.read_text()
    assert "0600" in text, "say that the file must not be world-readable"


# --- the recrawl timer (an embedded profile kept fresh) ----------------------------------


def test_recrawl_timer_runs_a_recrawl_of_the_due_pages_daily_that_the_spider_accepts():
    from crawler.arguments import parse_crawl_arguments

    service = unit(DEPLOY / "systemd" / "linkwatch-recrawl.service")
    timer = unit(DEPLOY / "systemd" / "linkwatch-recrawl.timer")
    assert service["Service"]["Type"] == ["oneshot"]
    exec_start = shlex.split(service["Service"]["ExecStart"][-1])
    assert exec_start[1:4] == ["crawl", "backlinks", "-a"]
    spider_args = dict(
        exec_start[i + 1].partition("=")[::2] for i, word in enumerate(exec_start) if word == "-a"
    )
    parsed = parse_crawl_arguments(spider_args, default_depth=3, default_max_pages=10)
    assert parsed.recrawl == "due" and parsed.depth == 0
    assert service["Service"]["User"][-1] not in {"root", "0"}
    assert timer["Timer"]["Persistent"] == ["true"], "a missed run happens at the next boot"
    assert timer["Timer"]["OnCalendar"], "when it runs"
    assert timer["Install"]["WantedBy"] == ["timers.target"]
    guide = GUIDE.read_text()
    assert "linkwatch-recrawl.timer" in guide and "-a recrawl=due" in guide, "and a cron line"


# --- the monitor timer (recrawl, then alerts) ----------------------------------------------


def test_monitor_timer_runs_linkwatch_monitor_daily_and_stops_its_crawl_gracefully():
    from crawler.cli.app import build_parser

    service = unit(DEPLOY / "systemd" / "linkwatch-monitor.service")
    timer = unit(DEPLOY / "systemd" / "linkwatch-monitor.timer")
    assert service["Service"]["Type"] == ["oneshot"]
    exec_start = shlex.split(service["Service"]["ExecStart"][-1])
    assert PurePosixPath(exec_start[0]).name == "linkwatch"
    args = build_parser(["monitor"]).parse_args(exec_start[1:])
    assert args.command == "monitor"
    assert service["Service"]["User"][-1] not in {"root", "0"}
    # The whole control group gets SIGTERM, so the recrawl stores what it fetched.
    assert service["Service"].get("KillMode", ["control-group"])[-1] == "control-group"
    assert service["Service"]["KillSignal"] == ["SIGTERM"]
    [env_file] = service["Service"]["EnvironmentFile"]
    assert timer["Timer"]["Persistent"] == ["true"], "a missed run happens at the next boot"
    assert timer["Timer"]["OnCalendar"], "when it runs"
    assert timer["Install"]["WantedBy"] == ["timers.target"]
    guide = GUIDE.read_text()
    assert "linkwatch-monitor.timer" in guide and ".venv/bin/linkwatch monitor" in guide, (
        "and a cron line"
    )
    assert f"install -m 0600 /dev/null {env_file.lstrip('-')}" in guide, "the channels' secrets"

"""Plot data for the feedback page, and the figures drawn from it.

`collect(submission)` runs a few plain-data calls on a (sandboxed or in-process) submission,
with its own functions throughout (no isolation), and computes the trusted counterparts with
the checks' oracles: the reference `train` (or, when it is absent, a loop of the checks' update
`checks.train.sgd_update`), torch's LR schedulers (`checks.schedule.torch_schedule`), and
torch.optim.SGD on a quadratic bowl. Whatever the submission returns, `collect` records plain
JSON-able data or an error string; it never raises.

`figures(plot_data)` turns that into matplotlib PNGs as data URIs (Agg backend). A figure is
drawn from its data rounded to 4 significant digits (finer than a 110-dpi figure can show), and
once per process for each distinct rounding: in a class, the many correct curves share one drawing.
"""

from __future__ import annotations

import functools
import json
import math
from typing import Any

import torch
import torch.nn.functional as F

from grader.checks.answers import stored
from grader.reporters.page import png
from grader.sandbox.protocol import Call, Gen, Result, Submission
from grader.text import bounded

TRAIN = {"epochs": 25, "batch_size": 8, "lr": 0.05, "beta": 0.5, "seed": 7, "init_std": 0.01}
"""The run of `train` that is plotted against the reference on the same data and seed."""

SCHEDULE_T = 21
SCHEDULE_ARGS: dict[str, tuple] = {
    "exponential_decay": (0.1, 0.85),
    "step_decay": (0.1, 0.5, 5),
    "linear_decay": (0.1, 0.01, 15),
    "cosine_decay": (0.1, 0.01, 15),
}

BOWL = (1.0, 12.0)
"""The quadratic bowl L(p) = ½(a·p₀² + c·p₁²): a long, narrow valley where momentum helps."""
BOWL_START = (-4.0, 1.0)
BOWL_STEPS, BOWL_LR, BOWL_BETA = 30, 0.05, 0.8

MAX_POINTS = 1000
"""The most points of one student curve that are kept and drawn (a history of 25 epochs is asked for)."""
MAX_NOTE_CHARS = 300
"""The most characters of an error or note about a plot (they may quote the submission)."""


# --- collecting ------------------------------------------------------------------------------


def _error(result: Result) -> str:
    if result.error_type == "NotImplementedError":
        return "not implemented yet"
    return bounded(f"{result.error_type}: {result.error or ''}".strip().rstrip(":"), MAX_NOTE_CHARS)


def _run(submission: Submission, calls: list[Call]) -> list[Result]:
    """Run calls without isolation; a failure of the transport itself becomes error results."""
    try:
        results = submission.run(calls)
        if isinstance(results, list) and len(results) == len(calls) and all(isinstance(r, Result) for r in results):
            return results
        raise ValueError("malformed results")
    except Exception as exc:  # noqa: BLE001 - plots are best effort: they must never sink grading
        return [Result(error_type=type(exc).__name__, error=str(exc)[:200]) for _ in calls]


def _float(value: Any) -> float | None:
    """A finite Python float, or None."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1 or value.is_complex():
            return None
        value = value.detach().cpu().double().item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _floats(values: Any, limit: int = MAX_POINTS) -> list[float | None] | None:
    """The first `limit` values as finite floats (None where not a number); None if not a list."""
    if not isinstance(values, (list, tuple)) or not values:
        return None
    return [_float(v) for v in values[:limit]]


@stored
def _reference_history(X: torch.Tensor, y: torch.Tensor) -> list[float]:
    """The loss history of a correct `train` on (X, y) with the plotted settings: the reference's,
    or without it an oracle loop (torch.randn/randperm from the generator, the checks' SGD update)."""
    from grader import reference

    s = TRAIN
    generator = torch.Generator().manual_seed(s["seed"])
    if reference.available():
        settings = {k: v for k, v in s.items() if k != "seed"}
        _, _, history = reference.reference().train(X, y, generator=generator, **settings)
        return [float(h) for h in history]
    from grader.checks.train import sgd_update  # a whole train is no check module's to ship: the loop stays here

    n, d = X.shape
    params = [torch.randn(d, generator=generator, dtype=X.dtype) * s["init_std"], torch.zeros((), dtype=X.dtype)]
    velocities, history = None, []
    for _ in range(s["epochs"]):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, s["batch_size"]):
            rows = order[start : start + s["batch_size"]]
            params, velocities = sgd_update(params, velocities, X[rows], y[rows], s["lr"], s["beta"])
            params = [p.to(X.dtype) for p in params]
        history.append(float(F.mse_loss(X @ params[0] + params[1], y)))
    return history


def _train_call() -> tuple[Call, torch.Tensor, torch.Tensor]:
    from grader.checks.train import regression_data

    X, y = regression_data(torch.float64)
    s = TRAIN
    kwargs = {k: s[k] for k in ("epochs", "batch_size", "lr", "beta", "init_std")}
    return Call("train", (X, y), {**kwargs, "generator": Gen(s["seed"], "plots")}), X, y


def _student_history(result: Result) -> tuple[list[float | None] | None, str | None]:
    if not result.ok:
        return None, _error(result)
    value = result.value
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        return None, f"train returned a {type(value).__name__}, not (w, b, history)"
    history = _floats(value[2])
    if history is None:
        return None, "train's history is not a list of numbers"
    return history, None


def _bowl_loss(p: torch.Tensor) -> float:
    a, c = BOWL
    return float(0.5 * (a * p[0] ** 2 + c * p[1] ** 2))


def _bowl_grad(p: torch.Tensor) -> torch.Tensor:
    return p * torch.tensor(BOWL, dtype=torch.float64)


def _one_tensor(value: Any, what: str) -> torch.Tensor:
    """The single (2,) tensor in a returned list, as float64; raises ValueError otherwise."""
    if not isinstance(value, (list, tuple)) or len(value) != 1 or not isinstance(value[0], torch.Tensor):
        raise ValueError(f"{what} is not a list of one tensor")
    tensor = value[0]
    if tuple(tensor.shape) != (2,) or tensor.is_complex():
        raise ValueError(f"{what} has shape {tuple(tensor.shape)}, expected (2,)")
    tensor = tensor.detach().cpu().double()
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"{what} is not finite")
    return tensor


def _bowl_oracle(momentum: float) -> list[float]:
    from grader.checks.step import torch_sgd

    p, buffers = torch.tensor(BOWL_START, dtype=torch.float64), None
    losses = [_bowl_loss(p)]
    for _ in range(BOWL_STEPS):
        (p,), buffers = torch_sgd([p], [_bowl_grad(p)], BOWL_LR, momentum=momentum, velocities=buffers)
        losses.append(_bowl_loss(p))
    return losses


def _bowl_student(submission: Submission) -> dict[str, Any]:
    """The student's momentum_step and sgd_step on the bowl, each fed back its own outputs."""
    start = torch.tensor(BOWL_START, dtype=torch.float64)
    paths: dict[str, dict[str, Any]] = {
        "momentum_step": {"p": start, "v": torch.zeros(2, dtype=torch.float64), "losses": [_bowl_loss(start)]},
        "sgd_step": {"p": start, "losses": [_bowl_loss(start)]},
    }
    errors: dict[str, str | None] = dict.fromkeys(paths)
    for step in range(BOWL_STEPS):
        live = [name for name in paths if errors[name] is None]
        if not live:
            break
        calls = []
        for name in live:
            p = paths[name]["p"]
            if name == "momentum_step":
                calls.append(Call(name, ([p], [_bowl_grad(p)], [paths[name]["v"]], BOWL_LR, BOWL_BETA)))
            else:
                calls.append(Call(name, ([p], [_bowl_grad(p)], BOWL_LR)))
        for name, result in zip(live, _run(submission, calls)):
            path = paths[name]
            try:
                if not result.ok:
                    raise ValueError(_error(result))
                if name == "momentum_step":
                    value = result.value
                    if not isinstance(value, (list, tuple)) or len(value) != 2:
                        raise ValueError("momentum_step did not return (new_params, new_velocities)")
                    path["p"] = _one_tensor(value[0], "new_params")
                    path["v"] = _one_tensor(value[1], "new_velocities")
                else:
                    path["p"] = _one_tensor(result.value, "sgd_step's result")
                loss = _bowl_loss(path["p"])
                if not math.isfinite(loss):
                    raise ValueError("the loss is not finite")
                path["losses"].append(loss)
            except Exception as exc:  # noqa: BLE001 - any garbage ends this path with a message
                errors[name] = f"step {step + 1}: {exc}"[:300]
    return {
        "momentum": paths["momentum_step"]["losses"] if errors["momentum_step"] is None else None,
        "momentum_error": errors["momentum_step"],
        "sgd": paths["sgd_step"]["losses"] if errors["sgd_step"] is None else None,
        "sgd_error": errors["sgd_step"],
    }


def _guarded(what: str, make: Any) -> Any:
    try:
        return make()
    except Exception as exc:  # noqa: BLE001 - a bug here costs only its plot
        return {"error": f"could not compute {what}: {type(exc).__name__}: {exc}"[:300]}


def collect(submission: Submission) -> dict:
    """Plain JSON-able data for the feedback plots; failures become error strings, never exceptions."""

    def train() -> dict:
        call, X, y = _train_call()
        (result,) = _run(submission, [call])
        history, error = _student_history(result)
        return {"settings": dict(TRAIN), "student": history, "error": error, "reference": _reference_history(X, y)}

    def schedules() -> dict:
        from grader.checks.schedule import torch_schedule  # linear and cosine hold their end value after `total`

        calls = [Call(fn, (*args, t)) for fn, args in SCHEDULE_ARGS.items() for t in range(SCHEDULE_T)]
        results = _run(submission, calls)
        closed = {fn: torch_schedule(fn, args, SCHEDULE_T) for fn, args in SCHEDULE_ARGS.items()}
        out = {}
        for i, (fn, args) in enumerate(SCHEDULE_ARGS.items()):
            mine = results[i * SCHEDULE_T : (i + 1) * SCHEDULE_T]
            failed = next((r for r in mine if not r.ok), None)
            values = None if failed else [_float(r.value) for r in mine]
            error = _error(failed) if failed else None
            if values is not None and all(v is None for v in values):
                values, error = None, "returned no usable numbers"
            out[fn] = {"args": list(args), "student": values, "error": error, "closed_form": closed[fn]}
        return out

    def momentum() -> dict:
        student = _bowl_student(submission)
        return {
            "settings": {"bowl": list(BOWL), "start": list(BOWL_START), "lr": BOWL_LR, "beta": BOWL_BETA},
            **student,
            "oracle_momentum": _bowl_oracle(BOWL_BETA),
            "oracle_sgd": _bowl_oracle(0.0),
        }

    return {
        "train": _guarded("the train curves", train),
        "schedules": _guarded("the schedules", schedules),
        "momentum": _guarded("the momentum curves", momentum),
    }


# --- drawing ----------------------------------------------------------------------------------

STUDENT, ORACLE, OTHER = "#d9480f", "#1c7ed6", "#2b8a3e"


def _band(color: str) -> dict:
    """The style of a trusted curve: a broad, light band that the student's thin line runs inside when right."""
    return {"color": color, "lw": 6, "alpha": 0.35, "solid_capstyle": "round"}


def _xy(values: list | None) -> tuple[list[int], list[float]]:
    """Points with a usable value, at most `MAX_POINTS`; None (non-finite or garbage) entries are left out."""
    shown = values[:MAX_POINTS] if isinstance(values, (list, tuple)) else []
    pairs = [(i, v) for i, v in enumerate(shown) if isinstance(v, (int, float)) and math.isfinite(v)]
    return [i for i, _ in pairs], [v for _, v in pairs]


def _positive(values: list | None) -> bool:
    return bool(values) and all(v is None or v > 0 for v in values[:MAX_POINTS])


def _train_figure(data: dict, plt: Any) -> str:
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    epochs = range(1, len(data["reference"]) + 1)
    ax.plot(epochs, data["reference"], **_band(ORACLE), label="reference solution")
    xs, ys = _xy(data["student"])
    if xs:
        ax.plot([x + 1 for x in xs], ys, color=STUDENT, lw=1.5, marker="o", ms=3, label="your train")
    if _positive(data["reference"]) and _positive(data["student"]):
        ax.set_yscale("log")
    s = data["settings"]
    ax.set(xlabel="epoch", ylabel="full-data mse (history)")
    ax.set_title(f"train: batch_size={s['batch_size']}, lr={s['lr']}, beta={s['beta']}, seed={s['seed']}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.subplots_adjust(left=0.12, right=0.97, top=0.9, bottom=0.14)
    return png(fig)


def _schedules_figure(data: dict, plt: Any) -> str:
    fig, axes = plt.subplots(2, 2, figsize=(8, 5.2), sharex=True)
    for ax, (fn, entry) in zip(axes.flat, data.items()):
        ts = range(len(entry["closed_form"]))
        ax.plot(ts, entry["closed_form"], **_band(ORACLE), label="torch scheduler")
        if entry.get("student"):
            xs, ys = _xy(entry["student"])
            ax.plot(xs, ys, color=STUDENT, marker="o", ms=3, lw=1.5, label="yours")
        else:
            why = f"yours: {entry.get('error') or 'no data'}"[:60]
            ax.text(0.5, 0.5, why, transform=ax.transAxes, ha="center", va="center", fontsize=8, color=STUDENT)
        ax.set_title(f"{fn}{tuple(entry['args'])}", fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("epoch t")
    axes[0][0].legend(fontsize=8)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.94, bottom=0.1, hspace=0.3, wspace=0.18)
    return png(fig)


def _momentum_figure(data: dict, plt: Any) -> str:
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    steps = range(len(data["oracle_momentum"]))
    ax.plot(steps, data["oracle_momentum"], **_band(ORACLE), label="torch.optim.SGD, momentum")
    ax.plot(steps, data["oracle_sgd"], **_band("#868e96"), label="torch.optim.SGD, plain")
    if data.get("momentum"):
        ax.plot(*_xy(data["momentum"]), color=STUDENT, marker="o", ms=3, label="your momentum_step")
    if data.get("sgd"):
        ax.plot(*_xy(data["sgd"]), color=OTHER, marker="s", ms=3, label="your sgd_step")
    ax.set_yscale("log")
    s = data["settings"]
    ax.set(xlabel="step", ylabel="loss")
    ax.set_title(f"bowl ½({s['bowl'][0]:g}·x² + {s['bowl'][1]:g}·y²), lr={s['lr']}, beta={s['beta']}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.subplots_adjust(left=0.12, right=0.97, top=0.9, bottom=0.14)
    return png(fig)


FIGURE_DIGITS = 4
"""Significant digits kept of each plotted number."""


def _rounded(value: Any) -> Any:
    """`value` (plain JSON data) with every float rounded to `FIGURE_DIGITS` significant digits."""
    if isinstance(value, float):
        return float(f"{value:.{FIGURE_DIGITS}g}") if math.isfinite(value) else value
    if isinstance(value, (list, tuple)):
        return [_rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


_DRAWERS = {"train": _train_figure, "schedules": _schedules_figure, "momentum": _momentum_figure}


@functools.lru_cache(maxsize=128)
def _drawn(name: str, data_json: str) -> str:
    """The data-URI PNG of figure `name` for this (rounded) data; drawn once per process."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return _DRAWERS[name](json.loads(data_json), plt)


def _stopped(error: str) -> str:
    return "is not implemented yet" if error.endswith("not implemented yet") else f"failed at {error}"


def figures(plot_data: dict | None) -> dict[str, str]:
    """Data-URI PNGs by name ("train", "schedules", "momentum"); a figure without data is left out."""
    return render(plot_data)[0]


def render(plot_data: dict | None) -> tuple[dict[str, str], dict[str, str]]:
    """(figures, notes): the figures of `figures`, and for each figure left out or incomplete,
    a sentence saying why."""
    data = plot_data or {}
    images: dict[str, str] = {}
    notes: dict[str, str] = {}
    train = data.get("train") or {"error": "no plot data"}
    if "reference" not in train:
        notes["train"] = f"No train plot: {train.get('error')}."
    elif not train.get("student"):
        notes["train"] = f"Your train gave no loss history to plot ({train.get('error')}); the reference is shown."
    schedules = data.get("schedules") or {"error": "no plot data"}
    if "error" in schedules:
        notes["schedules"] = f"No schedule plot: {schedules['error']}."
    momentum = data.get("momentum") or {"error": "no plot data"}
    if "oracle_momentum" not in momentum:
        notes["momentum"] = f"No momentum plot: {momentum.get('error')}."
    else:
        pairs = (("momentum_step", "momentum_error"), ("sgd_step", "sgd_error"))
        missing = [f"your {fn} {_stopped(momentum[key])}" for fn, key in pairs if momentum.get(key)]
        if missing:
            text = "; ".join(missing)
            shown = "its curve is" if len(missing) == 1 else "their curves are"
            notes["momentum"] = f"{text[0].upper()}{text[1:]}, so {shown} not shown."
    for name, entry in (("train", train), ("schedules", schedules), ("momentum", momentum)):
        if name in notes and notes[name].startswith("No "):
            continue
        try:
            images[name] = _drawn(name, json.dumps(_rounded(entry), sort_keys=True))
        except Exception as exc:  # noqa: BLE001 - a figure that cannot be drawn is described instead
            import matplotlib.pyplot as plt

            plt.close("all")
            notes[name] = f"The {name} plot could not be drawn ({type(exc).__name__}: {exc})."
    return images, {name: bounded(note, MAX_NOTE_CHARS * 2) for name, note in notes.items()}

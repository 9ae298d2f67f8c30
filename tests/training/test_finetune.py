"""Fine-tuning on the user's corrections: data handling, a few real steps, cancel, pause, CLI."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from core.errors import Cancelled, DatasetError
from core.preprocess import PreprocessConfig
from core.vocab import Vocab
from training.finetune_plan import Options, judge
from training.user_data import Example, heldout_split, inkml_truth, prepare, read_examples

FORMULAS = ["x^{2}", "a+b", "\\frac{1}{2}", "y_{3}", "\\alpha", "c-d", "\\sqrt{x}", "2x"]
FORMULAS += ["e^{x}", "\\pi r", "k=1", "m n", "z^{5}"]
FAST = Options(device="cpu", steps=2, regression_size=4)


def make_dataset(folder: Path, corrupt: bool = True) -> Path:
    """Rendered corrections plus one corrupt image, one missing and one unknown command."""
    from core.render import render_png

    (folder / "images").mkdir(parents=True)
    lines = []
    for i, f in enumerate(FORMULAS):
        (folder / "images" / f"{i}.png").write_bytes(render_png(f, dpi=110))
        lines.append(f"{i}.png\t{f}")
    if corrupt:
        (folder / "images" / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
        lines += ["corrupt.png\tx+1", "missing.png\ty", "0.png\t\\notacommand x"]
    (folder / "labels.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("corrections"))


@pytest.fixture(autouse=True)
def _shared_render_cache(tmp_path_factory, monkeypatch):
    """Replay and regression renders are cached; share the cache across this module."""
    root = Path(tmp_path_factory.getbasetemp()) / "finetune-render-cache"
    monkeypatch.setenv("TEXSNAP_CACHE_DIR", str(root))


def fake_examples(n: int) -> list[Example]:
    return [Example(f"{i}.png", f"image-{i}".encode(), "x") for i in range(n)]


# ---- data ---------------------------------------------------------------------------------


def test_heldout_split_is_deterministic_about_a_fifth_and_never_empty():
    examples = fake_examples(200)
    train, held = heldout_split(examples)
    assert (train, held) == heldout_split(list(examples))
    assert 25 <= len(held) <= 55 and len(train) + len(held) == 200
    assert not {e.key for e in train} & {e.key for e in held}
    train, held = heldout_split(fake_examples(10))
    assert len(held) >= 3 and len(train) >= 5


def test_identical_images_land_on_the_same_side():
    examples = fake_examples(40) + [Example("dup.png", b"image-3", "y")]
    train, held = heldout_split(examples)
    side = "held" if any(e.image == b"image-3" for e in held) else "train"
    group = held if side == "held" else train
    assert sum(e.image == b"image-3" for e in group) == 2


def test_too_few_corrections_is_a_clear_error():
    with pytest.raises(DatasetError, match="at least 10"):
        heldout_split(fake_examples(4))


def test_corrupt_images_and_unknown_symbols_are_skipped_with_a_warning(dataset):
    examples, warnings = read_examples(dataset)
    assert any("missing.png" in w for w in warnings)
    kept, images, labels, bad = prepare(examples, Vocab.build([]), 64, PreprocessConfig())
    assert len(kept) == len(images) == len(labels) == len(FORMULAS)
    assert any("corrupt.png" in w for w in bad)
    assert any("\\notacommand" in w for w in bad)


def test_inkml_files_with_ground_truth_are_read(tmp_path):
    from core.ink import Point, Stroke, to_inkml

    strokes = [Stroke([Point(0, 0), Point(20, 30), Point(40, 0)]), Stroke([Point(50, 10)] * 2)]
    ink = to_inkml(strokes)
    with_truth = ink.replace(
        "<definitions>", '<annotation type="truth">$x^2$</annotation><definitions>'
    )
    (tmp_path / "a.inkml").write_text(with_truth, encoding="utf-8")
    (tmp_path / "b.inkml").write_text(ink, encoding="utf-8")
    assert inkml_truth(with_truth) == "x^2"
    examples, warnings = read_examples(tmp_path)
    assert [e.latex for e in examples] == ["x^2"] and examples[0].image.startswith(b"\x89PNG")
    assert len(warnings) == 1 and "b.inkml" in warnings[0]


def test_not_a_dataset_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetError):
        read_examples(tmp_path / "nothing-here.zip")


def test_judge_needs_a_user_gain_and_at_most_one_printed_point_lost():
    def scores(user, printed):
        return {"user": {"exact_match": user}, "regression": {"exact_match": printed}}

    assert judge(scores(0.4, 0.9), scores(0.6, 0.895))[0]
    ok, why = judge(scores(0.4, 0.9), scores(0.6, 0.88))
    assert not ok and "printed" in why
    ok, why = judge(scores(0.4, 0.9), scores(0.4, 0.95))
    assert not ok and "held-out" in why


# ---- real runs on the tiny random model ---------------------------------------------------


@pytest.fixture(scope="module")
def finetuned(dataset, random_model_dir, tmp_path_factory):
    """One real fine-tune (2 steps) shared by the checks below."""
    from training.finetune import finetune

    out = tmp_path_factory.mktemp("models") / "models" / "ft-test"
    events = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(
            "TEXSNAP_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "finetune-render-cache")
        )
        report = finetune(dataset, random_model_dir, random_model_dir, out, FAST, events.append)
    return report, events, out


@pytest.mark.slow
def test_finetune_saves_a_loadable_version_and_reports_before_after(finetuned):
    from core.recognizer import Recognizer

    report, events, out = finetuned
    assert (out / "model.safetensors").is_file() and (out / "MODEL.md").is_file()
    rec = Recognizer.from_pretrained(out, device="cpu")
    assert rec.info["name"] == "ft-test"
    cfg = rec.loaded.config
    assert cfg["training"]["kind"] == "finetune" and cfg["training"]["samples"] >= 7
    assert cfg["metrics"]["finetune"]["after"]["user"]["n"] == report.heldout_samples
    assert report.heldout_samples >= 3 and report.replay_samples == report.train_samples
    assert any("corrupt.png" in w for w in report.warnings)
    phases = [e.phase for e in events]
    assert phases[0] == "prepare" and "before" in phases and phases[-1] == "save"
    train = [e for e in events if e.phase == "train"]
    assert [e.done for e in train] == [1, 2] and all(e.loss > 0 for e in train)
    assert train[-1].heldout is not None and train[0].eta is not None
    assert "Exact match" in report.to_text() and report.reason


@pytest.mark.slow
def test_regression_scores_are_remembered_by_model_checksum(finetuned, random_model_dir):
    """The next fine-tune need not score the model in use on the regression set again."""
    from core import paths
    from core.checkpoint import read_config

    report, _, out = finetuned
    cache = json.loads((paths.cache_dir() / "finetune" / "regression-scores.json").read_text())
    by_sha = {key.split(":")[0]: value for key, value in cache.items()}
    assert by_sha[read_config(out)["sha256"]] == report.after["regression"]
    assert by_sha[read_config(random_model_dir)["sha256"]] == report.before["regression"]


@pytest.mark.slow
def test_finetuned_version_is_listed_and_can_be_used(finetuned, monkeypatch):
    from training import model_store

    _, _, out = finetuned
    monkeypatch.setenv("TEXSNAP_DATA_DIR", str(out.parent.parent))
    versions = model_store.list_versions()
    assert [v.name for v in versions] == ["base", "ft-test"]
    assert (
        versions[0].active and versions[1].samples >= 7 and "corrections" in versions[1].summary()
    )
    assert model_store.use("ft-test").model == "ft-test"
    assert [v.name for v in model_store.list_versions() if v.active] == ["ft-test"]


@pytest.mark.slow
def test_cancel_mid_way_leaves_no_model_and_the_active_model_unchanged(
    dataset, random_model_dir, tmp_path
):
    from core.settings import load_settings
    from training.finetune import finetune

    out = tmp_path / "models" / "cancelled"
    cancel, pause = threading.Event(), threading.Event()

    def on_progress(p):
        if p.phase == "train" and p.done == 1:
            pause.set()  # paused: waits without burning time, and still honours a cancel
            threading.Timer(0.3, cancel.set).start()

    with pytest.raises(Cancelled):
        finetune(
            dataset, random_model_dir, random_model_dir, out, Options(device="cpu", steps=50, regression_size=4),
            on_progress, cancel, pause,
        )  # fmt: skip
    assert not out.exists() and not list((tmp_path / "models").glob(".staging-*"))
    assert load_settings()[0].model == "base"


def test_an_existing_output_folder_is_refused(dataset, random_model_dir, tmp_path):
    from training.finetune import finetune

    with pytest.raises(DatasetError, match="already exists"):
        finetune(dataset, random_model_dir, random_model_dir, tmp_path, FAST)


@pytest.mark.slow
def test_cli_finetune_prints_the_report_as_json(dataset, random_model_dir, monkeypatch, capsys):
    from main import main

    monkeypatch.setenv("TEXSNAP_MODEL", str(random_model_dir))
    args = ["--steps", "1", "--regression-size", "4", "--device", "cpu", "--json"]
    code = main(["finetune", str(dataset), *args])
    out = capsys.readouterr()
    assert code == 0, out.err
    report = json.loads(out.out)
    assert report["steps"] == 1 and report["used"] is False
    assert Path(report["model_dir"]).is_dir() and "Scoring the model in use" in out.err
    assert main(["models", "list", "--json"]) == 0
    names = [m["name"] for m in json.loads(capsys.readouterr().out)]
    assert names == ["base", report["name"]]


def test_cli_finetune_bad_dataset_is_exit_2(random_model_dir, monkeypatch, capsys, tmp_path):
    from main import main

    monkeypatch.setenv("TEXSNAP_MODEL", str(random_model_dir))
    assert main(["finetune", str(tmp_path / "nope.zip"), "--device", "cpu"]) == 2
    assert "texsnap finetune:" in capsys.readouterr().err
    assert main(["finetune", "--device", "cpu"]) == 2  # no corrections saved yet
    assert "no corrections yet" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_finetune_in_a_child_process_like_the_training_tab(
    dataset, random_model_dir, monkeypatch, capsys, tmp_path
):
    from main import main

    monkeypatch.setenv("TEXSNAP_MODEL", str(random_model_dir))
    out_dir = tmp_path / "child-version"
    args = ["--steps", "1", "--regression-size", "4", "--device", "cpu", "--json"]
    code = main(["finetune", str(dataset), *args, "--out", str(out_dir), "--child-process"])
    out = capsys.readouterr()
    assert code == 0, out.err
    report = json.loads(out.out)
    assert report["steps"] == 1 and Path(report["model_dir"]) == out_dir
    assert (out_dir / "config.json").is_file()
    assert "Scoring the model in use" in out.err  # the child's progress reached the parent


def test_cli_finetune_child_process_error_is_exit_2(
    random_model_dir, monkeypatch, capsys, tmp_path
):
    from main import main

    monkeypatch.setenv("TEXSNAP_MODEL", str(random_model_dir))
    bad = tmp_path / "broken.zip"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    assert main(["finetune", str(bad), "--device", "cpu", "--child-process"]) == 2
    assert "texsnap finetune:" in capsys.readouterr().err


def _batchnorm_statistics(model_dir: Path) -> dict:
    from core.checkpoint import load_model

    state = load_model(model_dir).model.state_dict()
    return {k: v for k, v in state.items() if k.endswith(("running_mean", "running_var"))}


@pytest.mark.slow
def test_batchnorm_statistics_stay_frozen_unless_adapt_bn_gathers_them_anew(
    finetuned, dataset, random_model_dir, tmp_path
):
    import dataclasses

    import torch

    from training.finetune import finetune

    start = _batchnorm_statistics(random_model_dir)
    assert start
    kept = _batchnorm_statistics(finetuned[2])
    assert all(torch.equal(kept[k], v) for k, v in start.items())
    options = dataclasses.replace(FAST, adapt_bn=True)
    out = tmp_path / "models" / "ft-bn"
    report = finetune(dataset, random_model_dir, random_model_dir, out, options)
    moved = _batchnorm_statistics(out)
    assert any(not torch.equal(moved[k], v) for k, v in start.items())
    assert all(torch.isfinite(v).all() for v in moved.values())
    assert report.after["user"]["n"] == report.heldout_samples


def test_experiment_overrides_change_only_what_they_name():
    from training.finetune_plan import PRESETS

    quick = PRESETS["quick"]
    p = Options(steps=7, lr=2e-5, replay_ratio=0.5).resolved()
    assert (p.steps, p.lr, p.replay_ratio) == (7, 2e-5, 0.5)
    assert (p.warmup, p.batch_pixels, p.max_replay) == (quick.warmup, quick.batch_pixels, 400)
    assert Options().resolved() == quick
    assert Options(replay_ratio=-1).resolved().replay_ratio == 0.0
    assert Options(distort=0.5).resolved().distort == 0.5
    assert Options(distort=-1).resolved().distort == 0.0
    assert Options(adapt_bn=True).resolved().adapt_bn and not quick.adapt_bn
    assert Options(replay_pool=300).resolved().replay_pool == 300 and not quick.replay_pool


@pytest.mark.slow
def test_a_larger_replay_pool_draws_from_more_printed_formulas(dataset, random_model_dir, tmp_path):
    import dataclasses

    from training.finetune import finetune

    options = dataclasses.replace(FAST, replay_pool=20)
    report = finetune(dataset, random_model_dir, random_model_dir, tmp_path / "m" / "ft", options)
    assert report.replay_samples == 20 > report.train_samples


def _tiny_model(seed: int):
    import torch

    from core.model import Im2Latex, ModelConfig

    torch.manual_seed(seed)
    cfg = ModelConfig(
        vocab_size=20, d_model=32, n_heads=2, d_ff=64, enc_channels=[8, 8, 16, 16],
        enc_blocks=[1, 1, 1, 1],
    )  # fmt: skip
    return Im2Latex(cfg)


@pytest.mark.parametrize("part", ["encoder", "decoder"])
def test_a_fine_tune_of_one_part_leaves_the_other_untouched(part):
    import torch

    from training.finetune import _learn_only, _train_mode
    from training.trainer import param_groups

    model = _tiny_model(0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    _learn_only(model, part)
    _train_mode(model)  # as fine-tuning trains: BatchNorm statistics stay as they are
    opt = torch.optim.AdamW(param_groups(model, 0.01), lr=1e-2)
    images = torch.rand(2, 1, 32, 64)
    inputs = torch.randint(4, 20, (2, 6))
    sizes = torch.tensor([[32, 64], [32, 64]])
    _, loss = model(images, inputs, sizes, inputs, 0.0)
    loss.backward()
    opt.step()
    changed = {k for k, v in model.state_dict().items() if not torch.equal(v, before[k])}
    in_encoder = {k for k in changed if k.startswith("encoder.")}
    assert changed, "nothing learned"
    if part == "encoder":
        assert in_encoder == changed
    else:
        assert not in_encoder


def test_an_unknown_part_is_a_clear_error():
    with pytest.raises(DatasetError, match="Unknown part"):
        Options(part="head").resolved()


def test_blending_keeps_the_asked_share_of_the_fine_tuned_weights():
    import torch

    from training.finetune import _blend

    tuned, start = _tiny_model(0), _tiny_model(1)
    a = {k: v.clone() for k, v in tuned.state_dict().items()}
    b = start.state_dict()
    _blend(tuned, start, 0.75)
    for name, value in tuned.state_dict().items():
        if value.is_floating_point():
            assert torch.allclose(value, 0.75 * a[name] + 0.25 * b[name], atol=1e-6), name
        else:  # step counters and the like are not averaged
            assert torch.equal(value, a[name]), name


@pytest.mark.parametrize("bad", [0.0, -0.5, 1.5])
def test_a_blend_outside_zero_to_one_is_a_clear_error(bad):
    assert Options(blend=0.5).resolved().blend == 0.5
    with pytest.raises(DatasetError, match="blend"):
        Options(blend=bad).resolved()


@pytest.mark.slow
def test_held_out_corrections_are_scored_as_the_app_reads_the_saved_images(
    dataset, random_model_dir, tmp_path, monkeypatch
):
    """The report's held-out accuracy is what the user would get: the saved image through the
    Recognizer (every glyph size of the model), not one preprocessed input."""
    from core.recognizer import Recognizer
    from training.finetune import finetune

    saved = {p.read_bytes() for p in (dataset / "images").glob("*.png")}
    seen = []
    real = Recognizer.recognize_batch

    def spy(self, images, *args, **kw):
        seen.append((list(images), self.all_sizes, kw.get("all_sizes")))
        return real(self, images, *args, **kw)

    monkeypatch.setattr(Recognizer, "recognize_batch", spy)
    report = finetune(dataset, random_model_dir, random_model_dir, tmp_path / "m" / "ft", FAST)
    assert len(seen) >= 2  # before, after (and the live plot's points)
    for images, all_sizes, override in seen:
        assert len(images) == report.heldout_samples
        assert set(images) <= saved and all_sizes and override is None
    assert report.before["user"]["n"] == report.after["user"]["n"] == report.heldout_samples


def test_the_time_estimate_grows_with_the_work_asked_for():
    from training.finetune_plan import estimate_seconds

    base = estimate_seconds(Options(), 100)
    assert 60 < base < 600  # the quick preset on a laptop CPU: a few minutes
    assert estimate_seconds(Options(), 200) > base
    assert estimate_seconds(Options(preset="thorough"), 100) > 2 * base
    assert estimate_seconds(Options(replay_pool=400), 100) > base  # more formulas to draw
    assert estimate_seconds(Options(), 100, "cuda") < base / 2


@pytest.mark.slow
def test_all_sizes_trains_each_correction_at_every_glyph_size_the_app_reads(
    dataset, random_model_dir, tmp_path
):
    import dataclasses

    from core.checkpoint import load_model
    from core.preprocess import candidates
    from training.finetune import finetune

    cfg = load_model(random_model_dir, "cpu").preprocess
    sizes = len(candidates((dataset / "images" / "0.png").read_bytes(), cfg))
    assert sizes > 1, "the fixture's model should read at several glyph sizes"
    options = dataclasses.replace(FAST, all_sizes=True)
    report = finetune(dataset, random_model_dir, random_model_dir, tmp_path / "m" / "ft", options)
    # one replay draw per training input: several inputs per correction
    assert report.replay_samples > report.train_samples >= 7


def test_distillation_is_zero_for_the_teacher_itself_and_pulls_a_student_toward_it():
    import torch

    from training.finetune import _distillation

    teacher, student = _tiny_model(0).eval(), _tiny_model(1)
    images = torch.rand(2, 1, 32, 64)
    inputs = torch.randint(4, 20, (2, 6))
    sizes = torch.tensor([[32, 64], [32, 48]])
    targets = inputs.clone()
    targets[1, 4:] = teacher.cfg.pad_id  # padding is not a label position
    pad = teacher.cfg.pad_id
    with torch.no_grad():
        own, _ = teacher(images, inputs, sizes)
    assert float(_distillation(teacher, own, images, inputs, sizes, targets, pad)) < 1e-6
    logits, _ = student.eval()(images, inputs, sizes)
    kl = _distillation(teacher, logits, images, inputs, sizes, targets, pad)
    assert float(kl.detach()) > 0
    kl.backward()
    assert all(p.grad is None for p in teacher.parameters()), "the teacher stays frozen"
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in student.parameters())


@pytest.mark.slow
def test_distillation_trains_with_the_replay_rows_marked(dataset, random_model_dir, tmp_path):
    import dataclasses

    import torch

    from core.checkpoint import load_model
    from training.finetune import _batches, _Clock, _Run, finetune

    assert Options(distill=2).resolved().distill == 2.0
    assert Options(distill=-1).resolved().distill == 0.0
    options = dataclasses.replace(FAST, distill=1.0)
    report = finetune(dataset, random_model_dir, random_model_dir, tmp_path / "m" / "ft", options)
    assert load_model(tmp_path / "m" / "ft", "cpu").config["name"] == "ft"
    assert report.after["user"]["n"] == report.heldout_samples
    # the rows a batch marks as replay, the ones distilled, are exactly its printed formulas
    p, cpu = options.resolved(), torch.device("cpu")
    run = _Run(p, options, cpu, lambda e: None, None, None, _Clock())
    start = load_model(random_model_dir, "cpu")
    train, *_ = run.data(dataset, start, tmp_path)
    assert {"printed", "user"} <= set(train.shard.sources)
    plan = train.epoch_plan(options.seed, 0, p.batch_pixels, p.max_batch)
    *_, replay = next(_batches(train, options.seed, p, start.model.cfg))
    assert replay.tolist() == [train.shard.sources[i] == "printed" for i in plan[0]]


def test_the_anchor_pulls_learning_weights_back_toward_their_start_values():
    import torch

    from training.finetune import _Anchor

    assert Options(anchor=100).resolved().anchor == 100.0
    assert Options(anchor=-1).resolved().anchor == 0.0
    assert Options().resolved().anchor == 0.0, "the presets do not anchor"
    model = _tiny_model(0)
    frozen = model.embed.weight
    frozen.requires_grad_(False)  # a weight the fine-tune does not train stays as it is
    start = {name: w.detach().clone() for name, w in model.named_parameters()}
    anchor = _Anchor(model, strength=100.0)
    with torch.no_grad():
        for w in model.parameters():
            w.add_(1.0)  # every weight one unit away from its start
    anchor.pull(lr=5e-3)  # lr * strength = 0.5: half the way back
    for name, w in model.named_parameters():
        expected = start[name] + (1.0 if w is frozen else 0.5)
        assert torch.allclose(w, expected, atol=1e-6), name
    anchor.pull(lr=1e-2)  # lr * strength = 1: all the way back
    assert torch.allclose(model.layers[0].qkv.weight, start["layers.0.qkv.weight"], atol=1e-6)


@pytest.mark.slow
def test_an_anchored_fine_tune_saves_a_model_closer_to_its_start(
    dataset, random_model_dir, tmp_path
):
    import dataclasses

    from core.checkpoint import load_model
    from training.finetune import finetune

    start = load_model(random_model_dir, "cpu").model.state_dict()

    def moved(anchor: float) -> float:
        options = dataclasses.replace(FAST, steps=4, lr=1e-2, anchor=anchor)
        out = tmp_path / "m" / f"ft{anchor:g}"
        finetune(dataset, random_model_dir, random_model_dir, out, options)
        tuned = load_model(out, "cpu").model.state_dict()
        return sum(float((tuned[k].float() - start[k].float()).norm()) for k in start)

    assert moved(anchor=50) < moved(anchor=0)

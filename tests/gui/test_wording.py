"""Messages in the app name controls, not spec paths or command-line flags, and list several
problems on separate lines (issue 8, item 9)."""

from __future__ import annotations

import re

import pytest

from helpers import wait_ready
from workbench.core.data import DataError, load_dataset
from workbench.core.spec import DataSpec, SpecError, parse_spec
from workbench.gui.wording import field_label, for_the_app, problems_text, spec_error_text

SPEC_WORDS = re.compile(r"(?<![\w/.-])(data|train|model|optimizer|loss|schedule)\.[a-z_]+|--[a-z]")


def _loader_messages(tmp_path) -> list[str]:
    """What core's loader says about a few broken tables (in spec/CLI words)."""
    cases = {
        "no_target.csv": ("a,b,c\n1,2,0\n3,4,1\n", {"target": "price"}),
        "holes.csv": ("a,b,label\n1,,x\n3,4,y\n", {}),
        "one_feature_id.csv": ("customer_id,label\n" + "\n".join(f"{1000 + i},{i % 2}" for i in range(30)), {}),
        "text_regression.csv": ("a,label\n1,x\n2,y\n3,x\n", {"task": "regression"}),
        "empty_target.csv": ("a,b,label\n1,2,\n3,4,\n", {"missing": "drop", "target": "label"}),
    }
    messages = []
    for name, (text, options) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        try:
            ds = load_dataset(DataSpec(source=str(path), **options))
            messages += ds.meta.notes
        except DataError as err:
            messages.append(str(err))
    ok = tmp_path / "ok.csv"
    ok.write_text("a,b,label\n" + "\n".join(f"{i},{i * 2},{i % 3}" for i in range(30)))
    messages += load_dataset(DataSpec(source=str(ok))).meta.notes
    return messages


def test_loader_messages_name_controls_in_the_app(tmp_path):
    messages = _loader_messages(tmp_path)
    assert any(SPEC_WORDS.search(m) for m in messages)  # core speaks spec/CLI (right for the CLI)
    for message in messages:
        for on_data_page in (True, False):
            text = for_the_app(message, on_data_page)
            assert not SPEC_WORDS.search(text), text
    no_target = for_the_app(messages[0], on_data_page=True)
    assert "Choose one of them as the Target below" in no_target
    assert "choose another Target on the Data page" in for_the_app(
        "x: the target column 'y' has no values; choose another with data.target / --target")


def test_file_names_that_look_like_fields_are_left_alone():
    text = for_the_app("/home/me/data.csv and ./loss.json and model.pt, train.epochs")
    assert text == "/home/me/data.csv and ./loss.json and model.pt, Epochs"


def test_fields_are_named_as_the_pages_name_them():
    spec = parse_spec({"model": {"layers": [
        {"type": "Linear", "out_features": 8}, {"type": "ReLU"}, {"type": "Dropout", "p": 0.2},
        {"type": "Residual", "layers": [{"type": "Linear", "out_features": 8}]}]}})
    assert field_label("model.layers.2.p", spec) == "Layer 3 (Dropout): p"
    assert field_label("model.layers.3.layers.0.out_features", spec) == "Layer 4.1 (Linear): out_features"
    assert field_label("model.layers.0.type", spec) == "Layer 1 (Linear)"
    assert field_label("optimizer.lr") == "Optimizer: lr"
    assert field_label("train.batch_size") == "Batch size" and field_label("data.split.val") == "Split: validation"


def test_several_problems_go_on_separate_lines():
    with pytest.raises(SpecError) as err:
        parse_spec({"model": {"layers": [{"type": "Linear", "out_features": 0}, {"type": "Dropout", "p": 3}]},
                    "optimizer": {"type": "Adam", "lr": -1}})
    text = spec_error_text(err.value, {"model": {"layers": [{"type": "Linear"}, {"type": "Dropout"}]}})
    lines = text.splitlines()
    assert len(lines) == len(err.value.problems) >= 3
    assert any(line.startswith("Layer 2 (Dropout): p:") for line in lines)
    assert any(line.startswith("Layer 1 (Linear): out_features:") for line in lines)
    assert any(line.startswith("Optimizer: lr:") for line in lines)
    assert not SPEC_WORDS.search(text)
    assert problems_text([("", "a"), ("", "a")]) == "a"  # the same problem once


def test_a_refused_edit_and_the_train_reason_speak_the_apps_words(qtbot, make_window, tiny_spec):
    window = make_window(spec=tiny_spec)
    session = window.session
    wait_ready(qtbot, session)
    error = session.edit({"model.layers.1": {"type": "Dropout", "p": 3.0}, "optimizer.lr": -1.0})
    assert error is not None and len(error.splitlines()) == 2, error
    assert "Layer 2 (Dropout): p" in error and "Optimizer: lr" in error and not SPEC_WORDS.search(error)
    session.edit({"data.source": "sample:sine"})  # regression: CrossEntropyLoss is swapped, then a
    wait_ready(qtbot, session)
    session.edit({"loss.type": "CrossEntropyLoss"})  # loss that cannot take a regression target
    wait_ready(qtbot, session)
    ok, reason = session.validity
    assert not ok and reason and not SPEC_WORDS.search(reason), reason

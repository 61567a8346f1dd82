"""Tests of scripts/run_notebooks.py's bookkeeping (no notebook is executed)."""

import json

import nbformat
import pytest

from scripts import run_notebooks


def test_update_readme_fills_the_table_between_markers(tmp_path, monkeypatch):
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- runtimes:start -->\nold\n<!-- runtimes:end -->\noutro\n")
    monkeypatch.setattr(run_notebooks, "README", readme)
    run_notebooks.update_readme({
        "machine": "Test CPU, 2 cores",
        "notebooks": {"04_data.ipynb": {"full": 90.0, "quick": 30.4}, "05_x.ipynb": {"full": 600.0},
                      "05_dense_vs_cnn.ipynb": {"full": 300.0, "quick": 40.0}},
    })
    text = readme.read_text()
    assert text.startswith("intro\n<!-- runtimes:start -->\nMeasured on Test CPU, 2 cores.")
    assert "| `04_data.ipynb` | 90 s | 30 s |" in text
    assert "| `05_x.ipynb` | 10.0 min | not yet measured |" in text
    assert "| **training notebooks** | **5.0 min** | **40 s** |" in text  # those in models.CHAPTERS
    assert "| **all notebooks** | **16.5 min** | not yet measured |" in text
    assert "old" not in text and text.endswith("<!-- runtimes:end -->\noutro\n")


def test_update_readme_names_each_rows_machine_when_runs_were_on_several(tmp_path, monkeypatch):
    readme = tmp_path / "README.md"
    readme.write_text("<!-- runtimes:start -->\n<!-- runtimes:end -->\n")
    monkeypatch.setattr(run_notebooks, "README", readme)
    run_notebooks.update_readme({
        "machine": "CPU B, 2 cores",
        "notebooks": {
            "04_data.ipynb": {"full": 90.0, "measured_on": {"full": "CPU A, 2 cores, 2026-01-01"}},
            "05_dense_vs_cnn.ipynb": {"full": 300.0, "quick": 40.0,
                                      "measured_on": {"full": "CPU B, 2 cores, 2026-01-02"}},
            "06_x.ipynb": {"full": 60.0}},  # no record of its own: the file's machine
    })
    text = readme.read_text()
    assert "Measured on" not in text and "more than one machine" in text
    assert "| `04_data.ipynb` | 90 s | not yet measured | CPU A, 2 cores, 2026-01-01 |" in text
    assert "| `05_dense_vs_cnn.ipynb` | 5.0 min | 40 s | CPU B, 2 cores, 2026-01-02 |" in text
    assert "| `06_x.ipynb` | 60 s | not yet measured | CPU B, 2 cores |" in text
    assert "| **all notebooks** | **7.5 min** | not yet measured | |" in text
    # The same machine on different days is one machine: no column.
    run_notebooks.update_readme({"machine": "CPU A, 2 cores", "notebooks": {
        name: {"full": 60.0, "measured_on": {"full": f"CPU A, 2 cores, 2026-01-0{day}"}}
        for day, name in ((1, "04_data.ipynb"), (2, "05_x.ipynb"))}})
    assert readme.read_text().startswith("<!-- runtimes:start -->\nMeasured on CPU A, 2 cores.")


def test_update_readme_without_markers_says_so(tmp_path, monkeypatch):
    readme = tmp_path / "README.md"
    readme.write_text("no table here\n")
    monkeypatch.setattr(run_notebooks, "README", readme)
    with pytest.raises(SystemExit, match="markers"):
        run_notebooks.update_readme({"notebooks": {}})


def test_quick_parameters_of_a_notebook_without_entry_are_empty(tmp_path):
    assert run_notebooks.quick_parameters(tmp_path / "99_not_listed.ipynb") == {}


def test_export_tagged_figures_writes_the_png_of_tagged_cells(tmp_path, monkeypatch):
    import base64

    import nbformat

    png = b"\x89PNG\r\n\x1a\nfake"
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("plot()", metadata={"tags": ["readme-figure"]}, outputs=[
            nbformat.v4.new_output("display_data", data={
                "image/png": base64.b64encode(png).decode(), "text/plain": "<Figure>"})]),
        nbformat.v4.new_code_cell("untagged()"),
    ])
    path = tmp_path / "07_demo.ipynb"
    nbformat.write(nb, path)
    monkeypatch.setattr(run_notebooks, "FIGURES", tmp_path / "images")
    written = run_notebooks.export_tagged_figures(path)
    assert [p.name for p in written] == ["07_demo-1.png"]
    assert written[0].read_bytes() == png


def test_export_tagged_figures_refuses_a_tagged_cell_without_figure(tmp_path, monkeypatch):
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("print(1)", metadata={"tags": ["readme-figure"]})])
    nbformat.write(nb, tmp_path / "08_bad.ipynb")
    monkeypatch.setattr(run_notebooks, "FIGURES", tmp_path / "images")
    with pytest.raises(SystemExit, match="has no figure output"):
        run_notebooks.export_tagged_figures(tmp_path / "08_bad.ipynb")


def test_standalone_times_go_into_the_quick_column_with_their_origin(tmp_path, monkeypatch):
    runtimes = tmp_path / "runtimes.json"
    runtimes.write_text(json.dumps({"notebooks": {"05_dense_vs_cnn.ipynb": {"full": 120.0, "quick": 9.0}}}))
    monkeypatch.setattr(run_notebooks, "RUNTIMES", runtimes)
    monkeypatch.setattr(run_notebooks, "machine_description", lambda: "Test CPU, 2 cores, no GPU")
    log = ("tests/test_standalone.py standalone stack (latest): ...\n"
           ".05_dense_vs_cnn.ipynb: 16 s alone at the quick setting (latest)\n"
           ".11_book_cnn.ipynb: 44 s alone at the quick setting (latest)\n")
    recorded = run_notebooks.record_standalone_times(log)
    today = run_notebooks.datetime.date.today().isoformat()
    where = {"quick": f"Test CPU, 2 cores, no GPU, {today}"}
    assert recorded["notebooks"]["05_dense_vs_cnn.ipynb"] == {"full": 120.0, "quick": 16.0, "measured_on": where}
    assert recorded["notebooks"]["11_book_cnn.ipynb"] == {"quick": 44.0, "measured_on": where}
    assert recorded["quick_note"] == run_notebooks.QUICK_STANDALONE
    assert json.loads(runtimes.read_text()) == recorded
    with pytest.raises(SystemExit, match="no '<notebook>: N s alone"):
        run_notebooks.record_standalone_times("nothing here")


def test_training_seconds_add_up_the_cells_that_train():
    cells = [nbformat.v4.new_code_cell(source) for source in (
        "model.fit(x, y, epochs=3)", "history = training.train(model, splits, 2)",
        "rows = run_once(build(), images, 2, 32)", "print('no training here')",
        "fig = plots.plot_history(history)",
        "rows = speed.compare_recipe_speed(models.book_cnn, make_optimizer, splits)",
        "threads = speed.compare_thread_settings('book_cnn')", "table = speed.speed_table(rows)")]
    for cell, seconds in zip(cells, (10.0, 5.0, 2.5, 100.0, 7.0, 40.0, 30.0, 1.0)):
        cell.metadata["papermill"] = {"duration": seconds}
    assert run_notebooks.training_seconds(cells) == pytest.approx(87.5)

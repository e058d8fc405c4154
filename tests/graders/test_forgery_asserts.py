"""Forgery corpus, assert-style: a wrong answer plus one trick on the libraries the tests call.

Each trick, left alone, turns the wrong answer's failing tests into passes. The guard puts the
libraries back before every locked cell, so each cheating submission scores exactly what the
honest wrong answer scores, and is flagged ``patched-library`` with what was put back named in
``flag_details``. Learner code that only uses the libraries is never flagged.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

import nbformat
import pytest
from nbformat import v4

from graders.autograde import GradeResult, grade
from graders.execute import execute_notebook
from graders.overwrite import sanitise, student_version
from graders.release import release_notebook
from graders.settings import GraderSettings
from graders.workspace import run_cells

from .conftest import code, solve

ROOT = Path(__file__).resolve().parents[2]
SENSOR = ROOT / "courses/applied-ml-for-industry/notebooks/prepare-sensor-data"
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}

SETUP = (
    "import math\n"
    "import numpy as np\n"
    "import pandas as pd\n"
    "from numpy.testing import assert_allclose\n"
    "df = pd.DataFrame({'a': [1.0, 2.0, 3.0, 10.0], 'b': [10.0, 20.0, 30.0, 40.0]})"
)
SOLVED = "def {}(frame):\n    ### BEGIN SOLUTION\n    return frame.{}()\n    ### END SOLUTION"
MEDIAN, COUNT = SOLVED.format("column_median", "median"), SOLVED.format("column_count", "count")
WRONG = "def column_median(frame):\n    return frame.mean()  # the mean, not the median\n"
RIGHT = "def column_median(frame):\n    return frame.median()\n"
COUNTED = "def column_count(frame):\n    return frame.count()\n"
# One test per way of checking a value; each is worth one point.
TESTS = {
    "t_allclose": "assert np.allclose(column_median(df), [2.5, 25.0])",
    "t_testing": "np.testing.assert_allclose(column_median(df), [2.5, 25.0])",
    "t_setup_name": "assert_allclose(column_median(df).to_numpy(), [2.5, 25.0])",
    "t_series": (
        "pd.testing.assert_series_equal(column_median(df), pd.Series({'a': 2.5, 'b': 25.0}))"
    ),
    "t_frame": (
        "pd.testing.assert_frame_equal(\n"
        "    column_median(df).to_frame('m'), pd.DataFrame({'m': [2.5, 25.0]}, index=['a', 'b']))"
    ),
    "t_isclose": "assert math.isclose(column_median(df)['a'], 2.5)",
    "t_median": "assert column_median(df)['a'] == df['a'].median()",
    "t_equals": (
        "assert column_median(df).to_frame().equals(pd.Series({'a': 2.5, 'b': 25.0}).to_frame())"
    ),
    "t_import": "import numpy\nassert numpy.isclose(column_median(df)['a'], 2.5)",
}

# trick -> (code at the top of the answer, a name flag_details must list, tests it fools)
TRICKS = {
    "np.allclose": ("np.allclose = lambda *a, **k: True", "numpy.allclose", {"t_allclose"}),
    "np.testing.assert_allclose": (
        "np.testing.assert_allclose = lambda *a, **k: None",
        "numpy.testing.assert_allclose",
        {"t_testing"},
    ),
    "pd.testing.assert_series_equal": (
        "pd.testing.assert_series_equal = lambda *a, **k: None",
        "pandas.testing.assert_series_equal",
        {"t_series"},
    ),
    "pd.testing.assert_frame_equal": (
        "pd.testing.assert_frame_equal = lambda *a, **k: None",
        "pandas.testing.assert_frame_equal",
        {"t_frame"},
    ),
    "np.testing.assert_allclose.__code__": (
        "np.testing.assert_allclose.__code__ = (lambda *a, **k: None).__code__",
        "assert_allclose.__code__",
        {"t_testing", "t_setup_name"},
    ),
    "math.isclose": ("math.isclose = lambda *a, **k: True", "math.isclose", {"t_isclose"}),
    "pd.Series.median": (
        "pd.Series.median = lambda self, *a, **k: self.mean()",
        "Series.median",
        {"t_median"},
    ),
    "pd.DataFrame.equals": (
        # DataFrame inherits equals: this adds one of its own, hiding the real one.
        "pd.DataFrame.equals = lambda self, other: True",
        "DataFrame.equals",
        {"t_equals"},
    ),
    "sys.modules swap": (
        "import sys, types\n"
        "fake = types.ModuleType('numpy')\n"
        "fake.isclose = lambda *a, **k: True\n"
        "sys.modules['numpy'] = fake",
        "sys.modules['numpy']",
        {"t_import"},
    ),
    "module __getattr__": (
        "del math.isclose\nmath.__getattr__ = lambda name: (lambda *a, **k: True)",
        "math.__getattr__",
        {"t_isclose"},
    ),
    "ModuleType subclass as type(np)": (
        "import types\n"
        "class Sneaky(types.ModuleType):\n"
        "    def __getattribute__(self, name):\n"
        "        if name == 'allclose':\n"
        "            return lambda *a, **k: True\n"
        "        return super().__getattribute__(name)\n"
        "np.__class__ = Sneaky",
        "type(numpy)",
        {"t_allclose"},
    ),
    "np = Fake()": (
        "class Fake:\n"
        "    def __getattr__(self, name):\n"
        "        return self\n"
        "    def __call__(self, *a, **k):\n"
        "        return True\n"
        "np = Fake()",
        "np (notebook)",
        {"t_allclose", "t_testing"},
    ),
    "assert_allclose rebound": (
        "assert_allclose = lambda *a, **k: None",
        "assert_allclose (notebook)",
        {"t_setup_name"},
    ),
}


def corpus_notebook(*, hidden: bool = False) -> nbformat.NotebookNode:
    cells = [
        code(SETUP, grade_id="setup", locked=True),
        code(MEDIAN, grade_id="median", solution=True),
        code(COUNT, grade_id="count", solution=True),
        code("assert (column_count(df) == 4).all()", grade_id="t_count", grade=True, points=1),
    ]
    for grade_id, test in TESTS.items():
        if hidden:
            test = f"### BEGIN HIDDEN TESTS\n{test}\n### END HIDDEN TESTS"
        cells.append(code(test, grade_id=grade_id, grade=True, points=1))
    return v4.new_notebook(cells=cells, metadata={"kernelspec": KERNELSPEC})


@pytest.fixture(scope="module")
def corpus():
    return release_notebook(corpus_notebook())


@pytest.fixture
def slow_grade(grade_it):
    """Importing pandas in a fresh kernel takes seconds on a busy machine."""

    def run(master, submission) -> GradeResult:
        return grade_it(master, submission, cell_timeout=60.0, run_timeout=240.0)

    return run


def scores(result: GradeResult) -> dict[str, float | None]:
    return {c.grade_id: c.score for c in result.cells}


@pytest.fixture(scope="module")
def honest_wrong(corpus, provider, settings_module):
    return grade(
        corpus.master,
        solve(corpus.student, {"median": WRONG, "count": COUNTED}),
        settings=settings_module,
        kernel_provider=provider,
    )


@pytest.fixture(scope="module")
def settings_module():
    return GraderSettings(
        sandbox="off",
        cell_timeout=60.0,
        run_timeout=240.0,
        output_cell_bytes=64 * 1024,
        output_total_bytes=256 * 1024,
    )


def test_the_honest_wrong_answer_scores_only_its_right_part(honest_wrong):
    assert honest_wrong.status == "graded", honest_wrong.reason
    assert honest_wrong.score == 1.0  # column_count only
    assert "patched-library" not in honest_wrong.flags
    assert honest_wrong.flag_details == {}


def test_the_right_answer_scores_everything_unflagged(corpus, slow_grade):
    result = slow_grade(corpus.master, solve(corpus.student, {"median": RIGHT, "count": COUNTED}))
    assert result.score == result.max_score == 1 + len(TESTS)
    assert result.flags == [] and result.flag_details == {}


@pytest.mark.parametrize("trick", sorted(TRICKS))
def test_a_patched_library_scores_what_the_wrong_answer_scores(
    corpus, slow_grade, honest_wrong, trick
):
    patch, name, fooled = TRICKS[trick]
    # The trick alone, with no guard, would pass these tests: it is aimed at them.
    assert fooled <= set(TESTS)
    answer = patch + "\n\n" + WRONG
    result = slow_grade(corpus.master, solve(corpus.student, {"median": answer, "count": COUNTED}))
    assert result.status == "graded", result.reason
    assert scores(result) == scores(honest_wrong), trick
    assert "patched-library" in result.flags
    names = result.flag_details["patched-library"]
    assert any(n == name or n.endswith("." + name) for n in names), names
    assert len(names) <= 20
    assert result.summary()["flag_details"] == result.flag_details


def test_the_tricks_do_fool_an_unguarded_kernel(corpus, provider, settings_module):
    """Run without the guard, the tricks pass what they aim at: the corpus tests what it
    claims to."""
    answer = "\n".join(TRICKS[t][0] for t in ("np.allclose", "pd.Series.median", "math.isclose"))
    submission = solve(corpus.student, {"median": answer + "\n\n" + WRONG, "count": COUNTED})
    nb = sanitise(corpus.master, submission, student_version(corpus.master)).graded
    with provider.acquire(timeout=60) as handle:
        run = execute_notebook(
            nb, handle, settings=settings_module, deadline=time.monotonic() + 240, probe=None
        )
    failed = {
        c.metadata["nbgrader"]["grade_id"]
        for c in run.notebook.cells
        if c.cell_type == "code"
        and c.metadata.get("nbgrader", {}).get("grade")
        and any(o.output_type == "error" for o in c.outputs)
    }
    assert not failed & {"t_allclose", "t_median", "t_isclose"}
    assert {"t_testing", "t_import"} <= failed  # what these tricks did not touch still fails


def test_realistic_library_use_is_never_flagged(grade_it):
    """An answer that only uses pandas, scikit-learn and matplotlib (fits, pipelines, parallel
    search, pickling, plotting and switching backends, options, help(), %timeit, warnings,
    errors caught) raises no flag."""
    setup = (
        "import warnings\nwarnings.filterwarnings('ignore')\n"
        "import numpy as np\nimport pandas as pd\n"
        "from numpy.testing import assert_allclose\n"
        "from sklearn.datasets import load_wine\n"
        "df = load_wine(as_frame=True).frame"
    )
    answer = (
        "%matplotlib inline\n"
        "import copy, pickle, io\n"
        "import matplotlib.pyplot as plt\n"
        "from sklearn.model_selection import train_test_split, cross_val_score\n"
        "from sklearn.pipeline import make_pipeline\n"
        "from sklearn.preprocessing import StandardScaler\n"
        "from sklearn.impute import SimpleImputer\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "from sklearn.ensemble import RandomForestClassifier\n"
        "from sklearn.metrics import classification_report\n"
        "from sklearn import set_config\n"
        "X, y = df.drop(columns='target'), df['target']\n"
        "Xtr, Xte, ytr, yte = train_test_split(X, y, random_state=0, stratify=y)\n"
        "pipe = make_pipeline(SimpleImputer(strategy='median'), StandardScaler(),\n"
        "                     LogisticRegression(max_iter=500)).fit(Xtr, ytr)\n"
        "print(cross_val_score(pipe, X, y, cv=3).mean())\n"
        "rf = RandomForestClassifier(n_estimators=5, random_state=0).fit(Xtr, ytr)\n"
        "print(classification_report(yte, rf.predict(Xte)))\n"
        "pickle.loads(pickle.dumps(rf)); copy.deepcopy(pipe)\n"
        "set_config(display='diagram'); display(pipe)\n"
        "summary = df.groupby('target').agg(['mean', 'median'])\n"
        "display(summary)\n"
        "pd.set_option('display.max_rows', 20)\n"
        "s = df['alcohol'].copy(); s.iloc[::5] = np.nan; s = s.fillna(s.median())\n"
        "pd.read_csv(io.StringIO(df.head().to_csv()))\n"
        "fig, ax = plt.subplots(); df.plot.scatter(x='alcohol', y='hue', ax=ax); plt.show()\n"
        "plt.switch_backend('agg'); plt.close('all')\n"
        "help(np.mean)\n"
        "%timeit -n 1 -r 1 sum(range(10))\n"
        "from sklearn.model_selection import GridSearchCV\n"
        "from sklearn.linear_model import Ridge\n"
        "GridSearchCV(Ridge(), {'alpha': [0.1, 1]}, cv=2, n_jobs=2).fit(Xtr, ytr)\n"
        "import scipy.optimize\nscipy.optimize.minimize(lambda v: (v - 1) ** 2, 0.0)\n"
        "warnings.warn('ignored')\n"
        "try:\n    pd.Series([1]).loc[5]\nexcept KeyError:\n    pass\n"
        "def share(frame):\n    return frame.isna().mean()"
    )
    source = v4.new_notebook(
        cells=[
            code(setup, grade_id="setup", locked=True),
            code(
                "def share(frame):\n    ### BEGIN SOLUTION\n    return frame.isna().mean()\n"
                "    ### END SOLUTION",
                grade_id="answer",
                solution=True,
            ),
            code(
                "assert_allclose(share(df).to_numpy(), 0.0)\n"
                "pd.testing.assert_series_equal(share(df), df.isna().mean())",
                grade_id="test",
                grade=True,
                points=1,
            ),
            code("x = 1", grade_id="more", solution=True),
            code("assert np.allclose(share(df), 0)", grade_id="test2", grade=True, points=1),
        ],
        metadata={
            "kernelspec": KERNELSPEC,
            "oqu": {"preload": ["numpy", "pandas", "sklearn", "matplotlib.pyplot"]},
        },
    )
    released = release_notebook(source)
    result = grade_it(
        released.master,
        solve(released.student, {"answer": answer, "more": "model = rf; model.predict(Xte[:2])"}),
        cell_timeout=120.0,
        run_timeout=400.0,
    )
    assert result.status == "graded", result.reason
    assert result.score == 2.0
    assert result.flags == [] and result.flag_details == {}


def test_a_declared_preload_protects_a_library_the_set_up_never_imported(slow_grade):
    """pandas is only in metadata.oqu.preload: the learner's patch is still put back."""
    source = v4.new_notebook(
        cells=[
            code("import math", grade_id="setup", locked=True),
            code(
                "def middle(values):\n    ### BEGIN SOLUTION\n    return sorted(values)[1]\n"
                "    ### END SOLUTION",
                grade_id="answer",
                solution=True,
            ),
            code(
                "import pandas as pd\nassert middle([1, 2, 10]) == pd.Series([1, 2, 10]).median()",
                grade_id="test",
                grade=True,
                points=1,
            ),
        ],
        metadata={"kernelspec": KERNELSPEC, "oqu": {"preload": ["pandas"]}},
    )
    released = release_notebook(source)
    cheat = (
        "import pandas as pd\n"
        "pd.Series.median = lambda self, *a, **k: self.mean()\n"
        "def middle(values):\n    return sum(values) / len(values)"
    )
    result = slow_grade(released.master, solve(released.student, {"answer": cheat}))
    assert scores(result)["test"] == 0.0
    assert any(n.endswith("Series.median") for n in result.flag_details["patched-library"])
    # The import was silent: the set-up cell shows nothing and counts as the first cell.
    setup = result.executed.cells[0]
    assert setup.outputs == [] and setup.execution_count == 1


def test_the_feedback_run_is_guarded_too(slow_grade):
    """With hidden tests the learner's visible output comes from a second run: it shows the
    failure the score records, not a pass the trick fakes."""
    source = corpus_notebook(hidden=False)
    source.cells.append(
        code(
            "### BEGIN HIDDEN TESTS\nassert True\n### END HIDDEN TESTS",
            grade_id="t_hidden",
            grade=True,
            points=1,
        )
    )
    released = release_notebook(source)
    answer = TRICKS["np.testing.assert_allclose"][0] + "\n\n" + WRONG
    result = slow_grade(
        released.master, solve(released.student, {"median": answer, "count": COUNTED})
    )
    shown = {c.grade_id: c for c in result.cells}
    assert shown["t_testing"].score == 0.0
    assert "Not equal to tolerance" in shown["t_testing"].feedback_output
    assert "patched-library" in result.flags


def test_the_workspace_run_puts_the_libraries_back(corpus, provider, settings_module):
    answer = TRICKS["np.allclose"][0] + "\n\n" + WRONG
    draft = solve(corpus.student, {"median": answer, "count": COUNTED})
    upto = next(c.id for c in draft.cells if c.metadata["nbgrader"]["grade_id"] == "t_allclose")
    result = run_cells(
        corpus.master, draft, upto=upto, settings=settings_module, kernel_provider=provider
    )
    assert result.status == "completed", result.reason
    outputs = next(c.outputs for c in result.cells if c.cell_id == upto)
    assert any(o.get("ename") == "AssertionError" for o in outputs)
    assert "numpy.allclose" in result.flag_details["patched-library"]


# --- the issue's own example ---------------------------------------------------------------

SENSOR_TRICK = (
    "import numpy as np, pandas as pd\n"
    'np.allclose = lambda a, b, **k: False if k.get("atol") == 1e-6 else True\n'
    "pd.Series.median = lambda self, *a, **k: 0.0\n"
)
SENSOR_WRONG = {
    "missing_share": "def missing_share(frame):\n    return frame.isna().mean()",
    "fill_with_train_median": (
        "def fill_with_train_median(train, test):\n    return train.fillna(0), test.fillna(0)"
    ),
    "standardise": "def standardise(train, test):\n    return train, test",
}
SENSOR_SETUP = (
    "import numpy as np\nimport pandas as pd\n"
    "rng = np.random.default_rng(0)\n"
    "df = pd.DataFrame(rng.normal(10, 2, size=(60, 3)), columns=['alcohol', 'magnesium', 'ash'])\n"
    "df.loc[df.index[::7], 'alcohol'] = np.nan\n"
    "df.loc[df.index[::11], 'magnesium'] = np.nan\n"
    "train, test = df.iloc[:45].copy(), df.iloc[45:].copy()"
)


def sensor_copy() -> nbformat.NotebookNode:
    """The shape of prepare-sensor-data, on data of its own: three answers, hidden tests
    calling np.allclose and Series.median."""
    answers = {
        "missing_share": "return frame.isna().mean()",
        "fill_with_train_median": "medians = train.median()\n"
        "    return train.fillna(medians), test.fillna(medians)",
        "standardise": "mean, std = train.mean(), train.std(ddof=0)\n"
        "    return (train - mean) / std, (test - mean) / std",
    }
    heads = {
        "missing_share": "def missing_share(frame):",
        "fill_with_train_median": "def fill_with_train_median(train, test):",
        "standardise": "def standardise(train, test):",
    }
    tests = {
        "test_missing_share": (
            "shares = missing_share(df)\nassert isinstance(shares, pd.Series)\n"
            "assert abs(shares['alcohol'] - 9 / 60) < 1e-9",
            2,
        ),
        "test_fill": (
            "train_f, test_f = fill_with_train_median(train, test)\n"
            "assert not train_f.isna().any().any() and not test_f.isna().any().any()\n"
            "### BEGIN HIDDEN TESTS\n"
            "med = train['alcohol'].median()\ngaps = test['alcohol'].isna()\nassert gaps.any()\n"
            "assert np.allclose(test_f.loc[gaps, 'alcohol'], med)\n"
            "### END HIDDEN TESTS",
            3,
        ),
        "test_standardise": (
            "train_f, test_f = fill_with_train_median(train, test)\n"
            "train_z, test_z = standardise(train_f, test_f)\n"
            "assert np.allclose(train_z.mean(), 0, atol=1e-9)\n"
            "### BEGIN HIDDEN TESTS\n"
            "assert not np.allclose(test_z.mean(), 0, atol=1e-6)\n"
            "### END HIDDEN TESTS",
            3,
        ),
    }
    cells = [code(SENSOR_SETUP, grade_id="setup", locked=True)]
    for (grade_id, body), (test_id, (test, points)) in zip(
        answers.items(), tests.items(), strict=True
    ):
        source = f"{heads[grade_id]}\n    ### BEGIN SOLUTION\n    {body}\n    ### END SOLUTION"
        cells.append(code(source, grade_id=grade_id, solution=True))
        cells.append(code(test, grade_id=test_id, grade=True, points=points))
    return v4.new_notebook(cells=cells, metadata={"kernelspec": KERNELSPEC})


def sensor_answers(trick: bool) -> dict[str, str]:
    answers = dict(SENSOR_WRONG)
    if trick:
        answers["missing_share"] = SENSOR_TRICK + answers["missing_share"]
    return answers


def test_the_issues_trick_on_a_copy_of_the_sensor_notebook(slow_grade):
    released = release_notebook(sensor_copy())
    honest = slow_grade(released.master, solve(released.student, sensor_answers(False)))
    cheat = slow_grade(released.master, solve(released.student, sensor_answers(True)))
    assert honest.score == 2.0 and honest.max_score == 8.0
    assert cheat.score == honest.score
    assert {"numpy.allclose"} <= set(cheat.flag_details["patched-library"])
    assert any(n.endswith("Series.median") for n in cheat.flag_details["patched-library"])


@pytest.mark.skipif(not SENSOR.exists(), reason="the shipped notebook moved")
def test_the_issues_trick_on_the_shipped_sensor_notebook(slow_grade):
    """The issue's three lines at the top of the first answer cell of the notebook as
    shipped (rewritten since, with outside checks): they change no score and are flagged."""
    path = next(SENSOR.glob("*.ipynb"))
    released = release_notebook(nbformat.read(path, as_version=4))
    honest = slow_grade(released.master, copy.deepcopy(released.student))
    cheat = copy.deepcopy(released.student)
    first = next(c for c in cheat.cells if c.metadata.get("nbgrader", {}).get("solution"))
    first.source = SENSOR_TRICK + first.source
    tricked = slow_grade(released.master, cheat)
    assert tricked.score == honest.score
    assert "patched-library" in tricked.flags
    assert "numpy.allclose" in tricked.flag_details["patched-library"]


# --- imports: added modules and finders -----------------------------------------------------

IMPORT_TRICKS = {
    "a fake module added to sys.modules": (
        "import sys, types\n"
        "fake = types.ModuleType('colorsys')\n"
        "fake.rgb_to_hsv = lambda r, g, b: (0.0, 1.0, 1.0)\n"
        "sys.modules['colorsys'] = fake",
        "sys.modules['colorsys']",
    ),
    "a finder of the learner's on sys.meta_path": (
        "import sys, importlib.abc, importlib.util\n"
        "class Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name == 'colorsys':\n"
        "            return importlib.util.spec_from_loader(name, self)\n"
        "    def create_module(self, spec):\n"
        "        return None\n"
        "    def exec_module(self, module):\n"
        "        module.rgb_to_hsv = lambda r, g, b: (0.0, 1.0, 1.0)\n"
        "sys.meta_path.insert(0, Finder())",
        "sys.meta_path",
    ),
}


@pytest.mark.parametrize("trick", sorted(IMPORT_TRICKS))
def test_a_module_or_finder_added_by_the_learner_is_dropped(grade_it, trick):
    """A test importing a module no one loaded before the answer gets the real one."""
    source = v4.new_notebook(
        cells=[
            code("import math", grade_id="setup", locked=True),
            code(
                "def red():\n    ### BEGIN SOLUTION\n    return (1.0, 0.0, 0.0)\n"
                "    ### END SOLUTION",
                grade_id="answer",
                solution=True,
            ),
            code(
                "import colorsys\nassert colorsys.rgb_to_hsv(*red())[0] == 0.0",
                grade_id="test",
                grade=True,
                points=1,
            ),
        ],
        metadata={"kernelspec": KERNELSPEC},
    )
    released = release_notebook(source)
    wrong = "def red():\n    return (0.0, 1.0, 0.0)  # green"
    patch, name = IMPORT_TRICKS[trick]
    honest = grade_it(released.master, solve(released.student, {"answer": wrong}))
    cheat = grade_it(released.master, solve(released.student, {"answer": patch + "\n" + wrong}))
    assert scores(honest) == scores(cheat) == {"test": 0.0}
    assert name in cheat.flag_details["patched-library"]
    # An honest import of an installed module after the mark is no finding.
    plain = grade_it(
        released.master, solve(released.student, {"answer": "import fractions\n" + wrong})
    )
    assert plain.flags == []

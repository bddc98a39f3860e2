"""Compare one real synthetic control and its intervals with the ``scpi`` package.

Run: ``KEYCITIES_MIRROR=../shared/data uv run python benchmarks/testbed_scpi.py
[--scpi-python PATH]`` (``scpi-pkg`` is a dev dependency: a reference, never used by
keycities itself).  scpi-pkg 4.0 fails under pandas 3 (its ``scdata`` indexes a
MultiIndex the pandas-2 way), so scpi runs in a child process: by default this
interpreter, or ``--scpi-python`` an interpreter of an environment with scpi-pkg and
pandas < 3.  The two share only a CSV of the panel.

Case: Hull (E06000010), GVA per filled job, policy from 2016, the 30 donors whose
pre-2016 path is closest (as ``keycities testbed evaluate Hull:2016 --similar 30``).
Both fit the weights on the 14 pre-period outcomes over the simplex (no constant, no
covariates), so the point estimates should agree.  The intervals answer different
questions: keycities' are conformal (Chernozhukov, Wüthrich & Zhu 2021: the effects
a permutation test does not reject, on the donors the synthetic control uses);
scpi's are prediction intervals for the counterfactual (Cattaneo, Feng & Titiunik
2021: in-sample uncertainty of the weights plus out-of-sample error bounds, here
90% in total: u_alpha = e_alpha = 0.05).  The script prints both per year.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

PLACE, START = "E06000010", 2016
SCPI = """
import json, sys
import numpy as np, pandas as pd
from scpi_pkg.scdata import scdata
from scpi_pkg.scpi import scpi
place, start, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
long = pd.read_csv(path)
long["y"] = long["y"] / 1000.0  # thousands of pounds: its solver fails on values near 40,000
years = sorted(long["year"].unique())
donors = sorted(set(long["code"]) - {place})
data = scdata(long, "code", "year", "y", np.array([y for y in years if y < start]),
              np.array([y for y in years if y >= start]), place, donors, verbose=False)
res = scpi(data, w_constr={"name": "simplex"}, u_alpha=0.05, e_alpha=0.05, sims=200,
           cores=1, verbose=False)
print(json.dumps({"donors": donors, "w": np.asarray(res.w).ravel().tolist(),
                  "synth": (1000 * np.asarray(res.Y_post_fit).ravel()).tolist(),
                  "lo": (1000 * np.asarray(res.CI_all_gaussian.iloc[:, 0]).ravel()).tolist(),
                  "hi": (1000 * np.asarray(res.CI_all_gaussian.iloc[:, 1]).ravel()).tolist()}))
"""


def _panel(mirror: str) -> pd.DataFrame:
    from keycities.analysis.testbed.from_store import outcome_panel
    from keycities.settings import Settings
    from keycities.store.build import build_store
    from keycities.store.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(store=Path(tmp) / "k.duckdb", mirror=Path(mirror),
                            cache=Path(tmp) / "cache", offline=True)
        with Store(settings.store) as store:
            build_store(store, settings)
            return outcome_panel(store, "gva_per_filled_job").values.dropna()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scpi-python", default=sys.executable,
                        help="interpreter with scpi-pkg (and pandas < 3)")
    args = parser.parse_args()
    mirror = os.environ.get("KEYCITIES_MIRROR")
    if not mirror:
        sys.exit("Set KEYCITIES_MIRROR to the mirror of the official files.")
    from keycities.analysis.testbed.conformal import conformal
    from keycities.analysis.testbed.synth import fit, similar_donors

    panel = _panel(mirror)
    donors = similar_donors(panel, PLACE, START, 30)
    ours = fit(panel, PLACE, START, donors=donors)
    cf = conformal(panel, PLACE, START, donors=list(ours.weights[ours.weights > 0].index))
    long = panel.loc[[PLACE, *donors]].rename_axis("code").reset_index().melt(
        id_vars="code", var_name="year", value_name="y")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "panel.csv"
        long.assign(year=long["year"].astype(int)).to_csv(path, index=False)
        run = subprocess.run([args.scpi_python, "-c", SCPI, PLACE, str(START), str(path)],
                             capture_output=True, text=True, check=False)
    if run.returncode:
        sys.exit(f"scpi failed (pandas 3? give --scpi-python):\n{run.stderr[-2000:]}")
    got = json.loads(run.stdout.strip().splitlines()[-1])
    w = pd.Series(got["w"], index=got["donors"]).reindex(ours.weights.index)
    print(f"weights: max |w_ours - w_scpi| = {np.abs(ours.weights - w).max():.2e}")
    post = [y for y in panel.columns if int(y) >= START]
    obs = panel.loc[PLACE, post].to_numpy()
    synth, lo, hi = (np.array(got[k]) for k in ("synth", "lo", "hi"))
    table = pd.DataFrame({
        "year": post, "effect_ours": ours.gap[post].to_numpy(), "effect_scpi": obs - synth,
        "conformal_low": cf.by_year["low"].to_numpy(),
        "conformal_high": cf.by_year["high"].to_numpy(),
        "scpi_low": obs - hi, "scpi_high": obs - lo})
    print(table.round(1).to_string(index=False))
    print(f"average effect: ours {ours.average_effect:,.1f}, scpi {np.mean(obs - synth):,.1f}; "
          f"conformal 90% interval of the average {cf.average['low']:,.1f} to "
          f"{cf.average['high']:,.1f}")


if __name__ == "__main__":
    main()

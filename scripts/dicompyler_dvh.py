#!/usr/bin/env python3
"""Independent DVHs with dicompyler-core, to check `ferrodose dvh`.

usage: dicompyler_dvh.py RTSTRUCT RTDOSE
Prints JSON: {ROI name: {"bin_gy": 0.01, "volume_cc": V, "pct": [...]}}, where
pct[i] is the cumulative relative volume (%) receiving at least i * bin_gy,
computed by dicompylercore.dvhcalc.get_dvh (contours rasterised on the dose
grid by dicompyler-core itself, 0.01 Gy bins).
"""
import json
import sys

import pydicom
import pydicom.dicomio

# dicompyler-core 0.5.6 imports pydicom.dicomio.read_file, which pydicom 3
# renamed to dcmread; give it the new name under the old one.
if not hasattr(pydicom.dicomio, "read_file"):
    pydicom.dicomio.read_file = pydicom.dcmread

from dicompylercore import dicomparser, dvhcalc  # noqa: E402


def main(rtstruct, rtdose):
    rois = dicomparser.DicomParser(rtstruct).GetStructures()
    out = {}
    for number, roi in rois.items():
        dvh = dvhcalc.get_dvh(rtstruct, rtdose, number)
        if dvh.volume == 0:
            continue
        cumulative = dvh.relative_volume
        out[roi["name"]] = {
            "bin_gy": float(cumulative.bins[1] - cumulative.bins[0]),
            "volume_cc": float(dvh.volume),
            "pct": [float(v) for v in cumulative.counts],
        }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])

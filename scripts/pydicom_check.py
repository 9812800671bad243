#!/usr/bin/env python3
"""Independent check of ferrodose's DICOM output with pydicom.

usage:
  pydicom_check.py rtdose FILE.dcm EXPECTED.f64   RT Dose: pixel_array x DoseGridScaling
                                                  equals the expected dose (raw little-endian
                                                  float64, frame/row/column order) within
                                                  half a quantisation step.
  pydicom_check.py study DIR                      CT series and RTSTRUCT: pydicom reads every
                                                  file; prints slice count, HU range, ROI names.
Exit code 0 on success, 1 on a failed check.
"""
import glob
import os
import sys

import numpy as np
import pydicom


def check_rtdose(path, expected_path):
    ds = pydicom.dcmread(path)
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.481.2", ds.SOPClassUID
    assert ds.DoseUnits == "GY", ds.DoseUnits
    assert ds.BitsAllocated == 32 and ds.PixelRepresentation == 0
    scaling = float(ds.DoseGridScaling)
    assert len(str(ds["DoseGridScaling"].value)) <= 16
    dose = ds.pixel_array.astype(np.float64) * scaling
    expected = np.fromfile(expected_path, dtype="<f8").reshape(dose.shape)
    worst = np.abs(dose - expected).max()
    ok = worst <= 0.5 * scaling * (1 + 1e-9)
    print(f"rtdose {os.path.basename(path)}: shape {dose.shape}, scaling {scaling:.6e} Gy, "
          f"max |pydicom - expected| = {worst:.3e} Gy (half step {0.5 * scaling:.3e}): {'ok' if ok else 'FAIL'}")
    offsets = [float(v) for v in ds.GridFrameOffsetVector]
    assert len(offsets) == int(ds.NumberOfFrames)
    return ok


def check_study(directory):
    cts = []
    rs = None
    for f in sorted(glob.glob(os.path.join(directory, "*.dcm"))):
        ds = pydicom.dcmread(f)
        if ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.2":
            cts.append(ds)
        elif ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.481.3":
            rs = ds
    cts.sort(key=lambda d: float(d.ImagePositionPatient[2]))
    hu = np.stack([d.pixel_array * float(d.RescaleSlope) + float(d.RescaleIntercept) for d in cts])
    names = [r.ROIName for r in rs.StructureSetROISequence] if rs is not None else []
    n_contours = sum(len(getattr(c, "ContourSequence", [])) for c in rs.ROIContourSequence) if rs is not None else 0
    print(f"study {directory}: {len(cts)} CT slices {hu.shape[1:]}, HU {hu.min():.0f}..{hu.max():.0f}, "
          f"ROIs {names}, {n_contours} contours")
    return len(cts) > 1 and rs is not None


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "rtdose":
        sys.exit(0 if check_rtdose(sys.argv[2], sys.argv[3]) else 1)
    if len(sys.argv) == 3 and sys.argv[1] == "study":
        sys.exit(0 if check_study(sys.argv[2]) else 1)
    print(__doc__)
    sys.exit(2)

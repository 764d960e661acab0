"""Labels (kiosk.labels) decode back to exactly the tag and the trade number: the PNG
directly, the SVG and the PDF through the Debian converters when they are installed."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest
import zxingcpp
from PIL import Image

from kiosk import labels
from kiosk.errors import TagMalformed


def decoded(png: bytes) -> dict[str, str]:
    image = Image.open(io.BytesIO(png)).convert("L")
    return {r.format.name: r.text for r in zxingcpp.read_barcodes(image)}


def assert_reads_back(png: bytes, trade: str, tag: str | None) -> None:
    found = decoded(png)
    assert found.get("Code128") == trade
    if tag is not None:
        assert found.get("QRCode") == tag


@pytest.mark.parametrize("method,trade", [("f1_tag", "1234-5678"), ("f2_tag", "1234-5678"),
                                          ("f2_tag", "ABCD-1234-5678-9012"), ("f1_tag", "20261121-000123")])
def test_png_reads_back_exactly(issuer, method, trade):
    tag = issuer.tag(method, trade, "424242")
    png = labels.render(trade, tag, "png")
    assert_reads_back(png, trade, tag)
    assert Image.open(io.BytesIO(png)).info["dpi"][0] == pytest.approx(300, abs=0.01)


def test_label_without_a_tag():
    assert_reads_back(labels.render("1234-5678", None, "png"), "1234-5678", None)


def test_low_resolution_printer(f2):
    assert_reads_back(labels.render("1234-5678", f2, "png", dpi=203), "1234-5678", f2)


@pytest.mark.skipif(not shutil.which("rsvg-convert"), reason="Debian librsvg2-bin not installed")
def test_svg_reads_back_exactly(tmp_path, f2):
    svg = tmp_path / "label.svg"
    svg.write_bytes(labels.render("1234-5678", f2, "svg"))
    png = subprocess.run(["rsvg-convert", "-d", "300", "-p", "300", str(svg)], capture_output=True, check=True).stdout
    assert_reads_back(png, "1234-5678", f2)


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="Debian poppler-utils not installed")
def test_pdf_reads_back_exactly(tmp_path, f1):
    pdf = tmp_path / "label.pdf"
    pdf.write_bytes(labels.render("1234-5678", f1, "pdf"))
    png = subprocess.run(["pdftoppm", "-png", "-r", "200", "-singlefile", str(pdf)], capture_output=True,
                         check=True).stdout
    assert_reads_back(png, "1234-5678", f1)


def test_pdf_page_is_the_label_size(f1):
    pdf = labels.render("1234-5678", f1, "pdf")
    box = re.search(rb"/MediaBox \[ 0 0 ([0-9.]+) ([0-9.]+) \]", pdf)
    width_mm, height_mm = (float(v) / 72 * 25.4 for v in box.groups())   # PDF points are 1/72 in
    assert width_mm == pytest.approx(100, abs=0.1) and height_mm == pytest.approx(60, abs=0.1)


def test_an_f1_tag_for_another_number_is_not_printed(issuer):
    with pytest.raises(TagMalformed, match="not 1234-5679"):
        labels.layout("1234-5679", issuer.tag("f1_tag", "1234-5678", "1"))


def test_cli(tmp_path, f2, capsys):
    out = tmp_path / "l.svg"
    assert labels.label_main(["--trade-number", "1234-5678", "--tag", f2, "--out", str(out)]) == 0
    assert out.read_text().startswith("<svg")
    assert labels.label_main(["--trade-number", "1234-5678", "--tag", f2[:-3], "--out", str(out)]) == 2
    assert "kiosk label:" in capsys.readouterr().err
    assert labels.label_main(["--trade-number", "no", "--out", str(out)]) == 2
    assert labels.label_main(["--trade-number", "1234-5678", "--out", str(tmp_path / "l.gif")]) == 2
    assert labels.label_main(["--trade-number", "1234-5678", "--out", str(tmp_path / "no" / "l.png")]) == 2

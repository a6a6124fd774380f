from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from slmstack.rag.convert import UnreadableFile, convert, kind_of


def make_pdf(path: Path, pages: list[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    with PdfPages(path) as pdf:
        for text in pages:
            fig = plt.figure(figsize=(6, 4))
            fig.text(0.1, 0.5, text)
            pdf.savefig(fig)
            plt.close(fig)


def make_docx(path: Path, heading: str, body: str) -> None:
    """A minimal valid .docx written by hand (no python-docx here)."""
    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    doc = (f'<?xml version="1.0" encoding="UTF-8"?><w:document {ns}><w:body>'
           f'<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>{heading}</w:t></w:r></w:p>'
           f"<w:p><w:r><w:t>{body}</w:t></w:r></w:p></w:body></w:document>")
    styles = (f'<?xml version="1.0" encoding="UTF-8"?><w:styles {ns}><w:style w:type="paragraph" '
              'w:styleId="Heading1"><w:name w:val="heading 1"/></w:style></w:styles>')
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType='
            '"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
            '<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.wordprocessingml.styles+xml"/></Types>'))
        z.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
            f'{rel}/officeDocument" Target="word/document.xml"/></Relationships>'))
        z.writestr("word/_rels/document.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
            f'{rel}/styles" Target="styles.xml"/></Relationships>'))
        z.writestr("word/document.xml", doc)
        z.writestr("word/styles.xml", styles)


def test_pdf_keeps_page_numbers(tmp_path):
    make_pdf(tmp_path / "r.pdf", ["Alpha page text", "Beta page text"])
    sections = convert(tmp_path / "r.pdf")
    assert [s.page for s in sections] == [1, 2]
    assert "Alpha" in sections[0].text and "Beta" in sections[1].text


def test_pptx_slides_become_pages(tmp_path):
    from pptx import Presentation

    prs = Presentation()
    for title in ["First slide", "Second slide"]:
        slide = prs.slides.add_slide(prs.slide_layouts[1])
        slide.shapes.title.text = title
    prs.save(tmp_path / "deck.pptx")
    sections = convert(tmp_path / "deck.pptx")
    assert [(s.page, "slide" in s.text) for s in sections] == [(1, True), (2, True)]
    assert "Second slide" in sections[1].text


def test_xlsx_sheets_and_docx_headings(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "Prices"
    wb.active.append(["item", "price"])
    wb.active.append(["widget", 42])
    wb.create_sheet("Staff").append(["name", "Ada"])
    wb.save(tmp_path / "book.xlsx")
    sheets = convert(tmp_path / "book.xlsx")
    assert [s.page for s in sheets] == [1, 2] and "widget" in sheets[0].text
    make_docx(tmp_path / "c.docx", "Termination", "Either party may end this contract.")
    text = convert(tmp_path / "c.docx")[0].text
    assert "# Termination" in text and "Either party" in text


def test_code_becomes_a_fenced_block(tmp_path):
    (tmp_path / "m.py").write_text("def f():\n    return 1\n")
    assert kind_of(tmp_path / "m.py") == "code"
    assert convert(tmp_path / "m.py")[0].text.startswith("# m.py\n\n```python\ndef f()")


@pytest.mark.parametrize("name,data", [
    ("broken.pdf", b"%PDF-1.4 this is not really a pdf"),
    ("broken.docx", b"PK\x03\x04 truncated zip"),
    ("blob.txt", b"\x00\x01\x02binary"),
    ("empty.md", b"   \n"),
])
def test_unreadable_files_raise_with_the_path(tmp_path, name, data):
    (tmp_path / name).write_bytes(data)
    with pytest.raises(UnreadableFile) as err:
        convert(tmp_path / name)
    assert name in str(err.value)

//! Documents as PDF: plain text laid out on A4 pages (contracts, statements), readable by any PDF reader
//! and by text extraction.

use pdf_writer::{Content, Name, Pdf, Rect, Ref, Str};

/// A character as WinAnsi (Latin-1 for the common range); anything else becomes `?`.
fn win_ansi(line: &str) -> Vec<u8> {
    line.chars()
        .map(|c| match u32::from(c) {
            0x20..=0x7e | 0xa0..=0xff => u8::try_from(u32::from(c)).unwrap_or(b'?'),
            0x2022 => 0x95, // bullet
            0x2013 => 0x96, // en dash
            0x2014 => 0x97, // em dash
            0x20ac => 0x80, // euro sign
            _ => b'?',
        })
        .collect()
}

/// Wraps a line at `width` characters, on spaces where it can.
fn wrap(line: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in line.split(' ') {
        if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    lines.push(current);
    lines
}

/// Plain text as an A4 PDF in Helvetica, 58 lines a page, long lines wrapped at 95 characters.
pub fn text(text: &str) -> Vec<u8> {
    const PER_PAGE: usize = 58;
    let lines: Vec<String> = text.lines().flat_map(|l| wrap(l, 95)).collect();
    let pages: Vec<&[String]> = lines.chunks(PER_PAGE).collect();

    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let font = Ref::new(3);
    let font_name = Name(b"F1");
    let page_ids: Vec<Ref> = (0..pages.len()).map(|i| Ref::new(10 + 2 * i32::try_from(i).unwrap_or(0))).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(page_ids.iter().copied()).count(i32::try_from(pages.len()).unwrap_or(0));
    pdf.type1_font(font).base_font(Name(b"Helvetica")).encoding_predefined(Name(b"WinAnsiEncoding"));
    for (i, chunk) in pages.iter().enumerate() {
        let content_id = Ref::new(page_ids[i].get() + 1);
        let mut page = pdf.page(page_ids[i]);
        page.media_box(Rect::new(0.0, 0.0, 595.0, 842.0));
        page.parent(tree);
        page.contents(content_id);
        page.resources().fonts().pair(font_name, font);
        drop(page);
        let mut content = Content::new();
        content.begin_text();
        content.set_font(font_name, 10.0);
        content.set_leading(13.0);
        content.next_line(50.0, 800.0);
        for line in *chunk {
            content.show(Str(&win_ansi(line)));
            content.next_line_using_leading();
        }
        content.end_text();
        let data = content.finish();
        pdf.stream(content_id, &data);
    }
    pdf.finish()
}

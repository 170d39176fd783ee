#pragma once
/// Hostile inputs for the bad-input matrix (tests/integration/hostile_input_test.cpp), each a small file that
/// once cost a node far more than its size: built here from their recipes, so a run sees fresh bytes and no
/// binary blob lives in the repository. Every generator is plain code over bytes (libtiff and OpenCV write
/// the images); the hostile PDFs are tests/support/pdf_writer's.

#include <string>

namespace infermesh::test {

/// A multi-page TIFF of blank `width` x `height` bilevel pages, CCITT G4 (each page a few bytes: ~21 KB for
/// 100 pages of 6000 x 6000, 36 MP each once decoded to grey).
std::string many_page_tiff(int pages, int width, int height);

/// A TIFF of one `width` x `height` grey page stored as one tile of `tile` x `tile` pixels (a 32768² tile is
/// 1 GiB for a reader that allocates it), with a few bytes of tile data.
std::string huge_tile_tiff(int width, int height, int tile);

/// A progressive flat-grey JPEG of `width` x `height` whose last scan (a few bytes) is repeated `extra_scans`
/// times: every one a full pass over the image for a decoder that takes them all.
std::string many_scan_jpeg(int width, int height, int extra_scans);

/// A 300 dpi A4 PNG covered in small random words, line after line (text Tesseract takes minutes over).
std::string dense_text_png();

/// A JSON request whose `image` is an array of `arrays` arrays of `items` small integers each (a payload that
/// decodes to many times its size).
std::string nested_json_arrays(int arrays, int items);

}  // namespace infermesh::test

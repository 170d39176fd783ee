#include "support/hostile_inputs.hpp"

#include <tiffio.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "support/nats_server.hpp"

namespace infermesh::test {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void put16(std::string& s, std::uint16_t v) { s.append({char(v & 0xff), char(v >> 8)}); }
void put32(std::string& s, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) s += char((v >> (8 * i)) & 0xff);
}

}  // namespace

std::string many_page_tiff(int pages, int width, int height) {
  const auto dir = make_temp_dir("infermesh-hostile-tiff");
  const auto path = dir + "/pages.tif";
  TIFF* tif = TIFFOpen(path.c_str(), "w");
  if (tif == nullptr) throw std::runtime_error("cannot write " + path);
  std::vector<unsigned char> row(static_cast<std::size_t>((width + 7) / 8), 0);  // 0 = white (min-is-white)
  for (int p = 0; p < pages; ++p) {
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, width);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, height);
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 1);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1);
    TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX4);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, height);
    TIFFSetField(tif, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
    TIFFSetField(tif, TIFFTAG_PAGENUMBER, p, pages);
    for (int y = 0; y < height; ++y) TIFFWriteScanline(tif, row.data(), static_cast<std::uint32_t>(y), 0);
    TIFFWriteDirectory(tif);
  }
  TIFFClose(tif);
  auto bytes = read_file(path);
  std::filesystem::remove_all(dir);
  return bytes;
}

std::string huge_tile_tiff(int width, int height, int tile) {
  std::string t = "II*";
  t += '\0';
  put32(t, 8);
  struct entry {
    std::uint16_t tag, type;
    std::uint32_t count, value;
  };
  constexpr std::uint16_t SHORT = 3, LONG = 4;
  const std::uint32_t data_at = 8 + 2 + 10 * 12 + 4;
  const std::vector<entry> entries{{256, LONG, 1, std::uint32_t(width)}, {257, LONG, 1, std::uint32_t(height)},
                                   {258, SHORT, 1, 8},  {259, SHORT, 1, 8},  // deflate
                                   {262, SHORT, 1, 1},  {277, SHORT, 1, 1},
                                   {322, LONG, 1, std::uint32_t(tile)}, {323, LONG, 1, std::uint32_t(tile)},
                                   {324, LONG, 1, data_at}, {325, LONG, 1, 16}};
  put16(t, static_cast<std::uint16_t>(entries.size()));
  for (const auto& e : entries) {
    put16(t, e.tag);
    put16(t, e.type);
    put32(t, e.count);
    if (e.type == SHORT) {
      put16(t, static_cast<std::uint16_t>(e.value));
      put16(t, 0);
    } else {
      put32(t, e.value);
    }
  }
  put32(t, 0);  // no next IFD
  t += std::string("\x78\x9c\x63\x60\x18\x05\xa3\x60\x14\x0c\x77\x00\x00\x10\x00\x01", 16);  // zlib: zeros
  return t;
}

std::string many_scan_jpeg(int width, int height, int extra_scans) {
  const cv::Mat img(height, width, CV_8UC1, cv::Scalar(128));  // flat: every AC scan is a few bytes of EOB runs
  std::vector<std::uint8_t> jpeg;
  cv::imencode(".jpg", img, jpeg, {cv::IMWRITE_JPEG_PROGRESSIVE, 1, cv::IMWRITE_JPEG_QUALITY, 90});
  // Walk the segments: the last SOS (header and entropy-coded data) ends where EOI starts.
  std::size_t at = 2, last_scan = 0;
  while (at + 4 <= jpeg.size() && jpeg[at] == 0xff) {
    const std::uint8_t marker = jpeg[at + 1];
    if (marker == 0xd9) break;  // EOI
    const std::size_t length = (std::size_t(jpeg[at + 2]) << 8) | jpeg[at + 3];
    std::size_t next = at + 2 + length;
    if (marker == 0xda) {  // SOS: data up to the next marker that is not a stuffed 0xff00 or a restart
      last_scan = at;
      while (next + 1 < jpeg.size() && !(jpeg[next] == 0xff && jpeg[next + 1] != 0 && (jpeg[next + 1] < 0xd0 || jpeg[next + 1] > 0xd7)))
        ++next;
    }
    at = next;
  }
  if (last_scan == 0 || at + 2 > jpeg.size()) throw std::runtime_error("many_scan_jpeg: no scan found");
  const std::string scan(jpeg.begin() + static_cast<long>(last_scan), jpeg.begin() + static_cast<long>(at));
  std::string out(jpeg.begin(), jpeg.begin() + static_cast<long>(at));
  for (int i = 0; i < extra_scans; ++i) out += scan;
  return out + "\xff\xd9";
}

std::string dense_text_png() {
  cv::Mat page(3508, 2480, CV_8UC1, cv::Scalar(255));
  std::mt19937 random(14);
  std::uniform_int_distribution<int> letter('a', 'z'), length(2, 9);
  for (int y = 14; y < page.rows - 4; y += 14) {
    std::string line;
    while (line.size() < 420) {
      for (int i = length(random); i > 0; --i) line += static_cast<char>(letter(random));
      line += ' ';
    }
    cv::putText(page, line, {4, y}, cv::FONT_HERSHEY_PLAIN, 0.75, cv::Scalar(0), 1, cv::LINE_8);
  }
  std::vector<std::uint8_t> png;
  cv::imencode(".png", page, png);
  return std::string(png.begin(), png.end());
}

std::string nested_json_arrays(int arrays, int items) {
  std::string inner = "[";
  for (int i = 0; i < items; ++i) inner += i ? ",1" : "1";
  inner += "]";
  std::string out = R"({"id":"json-bomb","image":[)";
  for (int i = 0; i < arrays; ++i) out += (i ? "," : "") + inner;
  return out + "]}";
}

}  // namespace infermesh::test

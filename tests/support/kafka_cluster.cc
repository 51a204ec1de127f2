#include "support/kafka_cluster.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace tally::testing {

const char* tally_binary();  // tally_process.cc

namespace {

// ---- dev-kafka: one per data directory --------------------------------------
// A restart with the same directory finds the same broker, as it would find
// the same cluster.
struct dev_kafka_process {
  pid_t pid = -1;
  int input = -1;  // its stdin: fault commands
  int output = -1;
  std::string bootstrap;
};
std::mutex kafka_mutex;
std::map<std::string, dev_kafka_process> dev_brokers;
int topics_made = 0;
// The topics made on the real cluster, by data directory: the bootstrap and
// the events topic.
std::map<std::string, std::pair<std::string, std::string>> real_topics;

// Reads one line from `fd` (up to 30 s).
std::string read_line(int fd) {
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  char c;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 200) <= 0) continue;
    if (::read(fd, &c, 1) != 1) break;
    if (c == '\n') break;
    line += c;
  }
  return line;
}

dev_kafka_process start_dev_kafka() {
  int in[2], out[2];
  if (::pipe(in) != 0 || ::pipe(out) != 0) throw std::runtime_error("pipe");
  dev_kafka_process k;
  k.pid = ::fork();
  if (k.pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(in[0], STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0 && !std::getenv("TALLY_TEST_LOGS")) ::dup2(devnull, STDERR_FILENO);
    for (int fd : {in[0], in[1], out[0], out[1]}) ::close(fd);
    ::execl(tally_binary(), tally_binary(), "dev-kafka", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  k.input = in[1];
  k.output = out[0];
  const auto line = read_line(k.output);
  if (line.rfind("bootstrap ", 0) != 0) throw std::runtime_error("dev-kafka did not start");
  k.bootstrap = line.substr(10);
  return k;
}

void stop_dev_kafka(dev_kafka_process& k) {
  if (k.pid <= 0) return;
  ::kill(k.pid, SIGKILL);
  int status = 0;
  ::waitpid(k.pid, &status, 0);
  ::close(k.input);
  ::close(k.output);
  k.pid = -1;
}

// ---- the real cluster: topics of each data directory's own ------------------

struct kafka_handle {
  rd_kafka_t* rk = nullptr;
  ~kafka_handle() {
    if (rk) rd_kafka_destroy(rk);
  }
};

std::unique_ptr<kafka_handle> admin_client(const std::string& bootstrap) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err) !=
      RD_KAFKA_CONF_OK)
    throw std::runtime_error(err);
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  auto h = std::make_unique<kafka_handle>();
  h->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!h->rk) throw std::runtime_error(std::string("kafka admin client: ") + err);
  return h;
}

int replication() {
  const char* v = std::getenv("TALLY_TEST_KAFKA_REPLICATION");
  return v && *v ? std::atoi(v) : 1;
}

// Creates the topics a deployment on `topic` needs, as docs/operations.md
// tells operators to; throws naming the broker's error.
void create_topics(const std::string& bootstrap, const std::string& events,
                   const std::string& owners) {
  auto h = admin_client(bootstrap);
  const int rf = replication();
  char err[512];
  rd_kafka_NewTopic_t* topics[2] = {rd_kafka_NewTopic_new(events.c_str(), 4, rf, err, sizeof err),
                                    rd_kafka_NewTopic_new(owners.c_str(), 1, rf, err, sizeof err)};
  rd_kafka_NewTopic_set_config(topics[0], "cleanup.policy", "delete");
  rd_kafka_NewTopic_set_config(topics[0], "retention.ms", "-1");
  rd_kafka_NewTopic_set_config(topics[0], "min.insync.replicas", rf > 1 ? "2" : "1");
  rd_kafka_NewTopic_set_config(topics[1], "cleanup.policy", "compact");
  rd_kafka_queue_t* q = rd_kafka_queue_new(h->rk);
  rd_kafka_AdminOptions_t* opt = rd_kafka_AdminOptions_new(h->rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(opt, 15000, err, sizeof err);
  rd_kafka_AdminOptions_set_request_timeout(opt, 20000, err, sizeof err);
  rd_kafka_CreateTopics(h->rk, topics, 2, opt, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
  std::string problem;
  if (!ev) {
    problem = "no answer within 30 s";
  } else if (rd_kafka_event_error(ev)) {
    problem = rd_kafka_event_error_string(ev);
  } else {
    size_t n = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    for (size_t i = 0; i < n; ++i)
      if (rd_kafka_topic_result_error(results[i]) != RD_KAFKA_RESP_ERR_NO_ERROR &&
          rd_kafka_topic_result_error(results[i]) != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        problem += std::string(rd_kafka_topic_result_name(results[i])) + ": " +
                   rd_kafka_topic_result_error_string(results[i]) + "; ";
  }
  if (ev) rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(opt);
  rd_kafka_queue_destroy(q);
  rd_kafka_NewTopic_destroy_array(topics, 2);
  if (!problem.empty())
    throw std::runtime_error("creating " + events + " on " + bootstrap + ": " + problem);
  // A cluster learns of a new topic broker by broker: wait until each one
  // that the bootstrap names knows both, with a leader for every partition.
  std::size_t from = 0;
  while (from <= bootstrap.size()) {
    const auto comma = std::min(bootstrap.find(',', from), bootstrap.size());
    const std::string one = bootstrap.substr(from, comma - from);
    from = comma + 1;
    auto b = admin_client(one);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (const auto* name : {&events, &owners}) {
      for (;;) {
        rd_kafka_topic_t* t = rd_kafka_topic_new(b->rk, name->c_str(), nullptr);
        const rd_kafka_metadata_t* md = nullptr;
        bool known = false;
        if (rd_kafka_metadata(b->rk, 0, t, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
          known = md->topic_cnt == 1 && !md->topics[0].err && md->topics[0].partition_cnt > 0;
          for (int i = 0; known && i < md->topics[0].partition_cnt; ++i)
            known = md->topics[0].partitions[i].leader >= 0 && !md->topics[0].partitions[i].err;
          rd_kafka_metadata_destroy(md);
        }
        rd_kafka_topic_destroy(t);
        if (known) break;
        if (std::chrono::steady_clock::now() > deadline)
          throw std::runtime_error(one + " does not know " + *name + " 30 s after it was made");
        ::usleep(100'000);
      }
    }
  }
}

// Deletes them; with `wait`, until the cluster says it is done.
void delete_topics(const std::string& bootstrap, const std::vector<std::string>& names,
                   bool wait = false) {
  try {
    auto h = admin_client(bootstrap);
    std::vector<rd_kafka_DeleteTopic_t*> topics;
    for (const auto& n : names) topics.push_back(rd_kafka_DeleteTopic_new(n.c_str()));
    rd_kafka_queue_t* q = rd_kafka_queue_new(h->rk);
    rd_kafka_AdminOptions_t* opt = rd_kafka_AdminOptions_new(h->rk, RD_KAFKA_ADMIN_OP_DELETETOPICS);
    char err[256];
    rd_kafka_AdminOptions_set_operation_timeout(opt, wait ? 15000 : 0, err, sizeof err);
    rd_kafka_DeleteTopics(h->rk, topics.data(), topics.size(), opt, q);
    if (rd_kafka_event_t* ev = rd_kafka_queue_poll(q, wait ? 20000 : 5000))
      rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opt);
    rd_kafka_queue_destroy(q);
    rd_kafka_DeleteTopic_destroy_array(topics.data(), topics.size());
  } catch (const std::exception&) {
    // The cluster is going away with the run; its folder goes with it.
  }
}

}  // namespace

bool kafka_mode() {
  const char* v = std::getenv("TALLY_TEST_KAFKA");
  return v && *v && std::string(v) != "0";
}

std::string real_kafka_bootstrap() {
  const char* v = std::getenv("TALLY_TEST_KAFKA_BROKER");
  if (!v || !*v) {
    v = std::getenv("TALLY_TEST_KAFKA");
    if (!v || !*v || std::string(v) == "1" || std::string(v) == "0") return "";
  }
  std::string s(v);
  if (s.front() == '/' || s.front() == '.') {
    std::ifstream in(s);
    std::string line;
    if (!std::getline(in, line) || line.empty())
      throw std::runtime_error("TALLY_TEST_KAFKA_BROKER: " + s +
                               " holds no bootstrap (is the broker started?)");
    return line;
  }
  return s;
}

kafka_target kafka_for(const std::string& data_dir, bool dev) {
  std::lock_guard lock(kafka_mutex);
  if (const auto bootstrap = dev ? "" : real_kafka_bootstrap(); !bootstrap.empty()) {
    // A deployment's other names follow its topic T (docs/operations.md): the
    // owners topic T.owners, the gateways' group T.gateways. One topic per
    // data directory and test process, so that nothing meets across tests.
    auto it = real_topics.find(data_dir);
    if (it == real_topics.end()) {
      const std::string topic = "tally-test." + std::to_string(::getpid()) + "." +
                                std::to_string(++topics_made) + ".events";
      create_topics(bootstrap, topic, topic + ".owners");
      it = real_topics.emplace(data_dir, std::pair{bootstrap, topic}).first;
    }
    return {bootstrap, it->second.second};
  }
  auto it = dev_brokers.find(data_dir);
  if (it == dev_brokers.end()) it = dev_brokers.emplace(data_dir, start_dev_kafka()).first;
  return {it->second.bootstrap};
}

std::vector<std::string> kafka_args(const std::string& data_dir) {
  auto k = kafka_for(data_dir);
  return {"--kafka", k.bootstrap, "--topic", k.topic};
}

std::string dev_kafka_fault(const std::string& data_dir, const std::string& command) {
  std::lock_guard lock(kafka_mutex);
  auto it = dev_brokers.find(data_dir);
  if (it == dev_brokers.end()) return "no dev-kafka for " + data_dir;
  const std::string line = command + "\n";
  if (::write(it->second.input, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
    return "cannot write to dev-kafka";
  return read_line(it->second.output);
}

void delete_kafka_topic(const std::string& bootstrap, const std::string& topic) {
  delete_topics(bootstrap, {topic}, true);
}

void release_kafka(const std::string& data_dir) {
  std::lock_guard lock(kafka_mutex);
  if (auto it = dev_brokers.find(data_dir); it != dev_brokers.end()) {
    stop_dev_kafka(it->second);
    dev_brokers.erase(it);
  }
  // The directory's own topics and those of every directory inside it.
  for (auto it = real_topics.begin(); it != real_topics.end();) {
    if (it->first == data_dir || it->first.rfind(data_dir + "/", 0) == 0) {
      const auto& [bootstrap, topic] = it->second;
      delete_topics(bootstrap, {topic, topic + ".owners"});
      it = real_topics.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace tally::testing
